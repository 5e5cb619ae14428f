package conformance

// AllCases returns the suite's cases in Autobahn's order: sections 1-7, 9,
// 10, 12 and 13 of the public case list (517 cases), with the compression
// sections' message counts scaled down (see scaledCount). Each call builds
// fresh cases.
func AllCases() []*Case {
	return allCases(false)
}

// AllCasesFull is AllCases with Autobahn's message counts in sections 12 and
// 13 (1000 messages per case).
func AllCasesFull() []*Case {
	return allCases(true)
}

func allCases(full bool) []*Case {
	var cs []*Case
	cs = append(cs, framingCases()...)
	cs = append(cs, pingCases()...)
	cs = append(cs, reservedBitsCases()...)
	cs = append(cs, opcodeCases()...)
	cs = append(cs, fragmentationCases()...)
	cs = append(cs, utf8Cases()...)
	cs = append(cs, closeCases()...)
	cs = append(cs, limitCases()...)
	cs = append(cs, compressionCases(full)...)
	return cs
}
