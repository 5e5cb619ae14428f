extends SceneTree

# Prints, for each value of values.gd, var2bytes as hex, a tab, and var2str
# in base64 (it may span lines): golden vectors straight from the engine.
const Values = preload("res://values.gd")

func _init():
	for v in Values.all():
		print(var2bytes(v).hex_encode(), "\t", Marshalls.utf8_to_base64(var2str(v)))
	quit(0)
