package wspeer

import (
	"fmt"

	"github.com/wspeer/wspeer/godot"
)

// VariantOptions are the options of Godot's Variant binary format, the
// type of Peer.Variant: see package godot.
type VariantOptions = godot.Options

// Bounds of Peer.EncodeBufferMaxSize, as Godot's PacketPeer has them.
const (
	DefaultEncodeBufferMaxSize = 8 << 20
	minEncodeBufferMaxSize     = 1024
	maxEncodeBufferMaxSize     = 256 << 20
)

// encodeBufferMax returns the effective EncodeBufferMaxSize.
func (p *Peer) encodeBufferMax() (int, error) {
	n := p.EncodeBufferMaxSize
	if n == 0 {
		return DefaultEncodeBufferMaxSize, nil
	}
	if n < minEncodeBufferMaxSize || n > maxEncodeBufferMaxSize {
		return 0, fmt.Errorf("%w: EncodeBufferMaxSize %d is outside 1 KiB..256 MiB", ErrInvalidParameter, n)
	}
	size := minEncodeBufferMaxSize
	for size < n {
		size <<= 1
	}
	return size, nil
}

// PutVar encodes v in Godot's Variant binary format (Peer.Variant chooses
// Godot 4 or Godot 3; see godot.Options.Encode for the Go types accepted)
// and sends it as one binary message, as Godot's put_var does. An encoding
// larger than EncodeBufferMaxSize returns ErrTooLarge (Godot's
// ERR_OUT_OF_MEMORY) and sends nothing; an encoding error (a Go value with
// no Variant, e.g. *godot.EncodeError matching godot.ErrUnsupported) is
// returned as is; an empty encoding sends nothing and returns nil; then the
// errors of PutPacket apply.
func (p *Peer) PutVar(v any) error {
	limit, err := p.encodeBufferMax()
	if err != nil {
		return err
	}
	b, err := p.Variant.Encode(v)
	if err != nil {
		return err
	}
	if len(b) > limit {
		return fmt.Errorf("%w: the encoded Variant is %d bytes, EncodeBufferMaxSize is %d", ErrTooLarge, len(b), limit)
	}
	if len(b) == 0 {
		return nil
	}
	return p.PutPacket(b)
}

// GetVar takes the next inbound message and decodes it as one Variant in
// the format Peer.Variant chooses, as Godot's get_var does: the message is
// consumed even when it does not decode, a text message is decoded as well,
// and nothing but the packet queue (and WasStringPacket, as for GetPacket)
// changes. It returns ErrNoPacket when no message is queued, and a
// *godot.DecodeError (matching godot.ErrInvalid, godot.ErrTruncated,
// godot.ErrObjectsNotAllowed...) naming the offset when the message is not a
// valid Variant. See godot.Options.DecodePrefix for the Go types returned.
func (p *Peer) GetVar() (any, error) {
	b, err := p.GetPacket()
	if err != nil {
		return nil, err
	}
	v, err := p.Variant.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("wspeer: GetVar: %w", err)
	}
	return v, nil
}
