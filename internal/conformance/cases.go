package conformance

// AllCases returns the suite's cases in Autobahn's order: sections 1-7, 9 and
// 10 of the public case list (301 cases; the compression sections 12 and 13
// are not included). Each call builds fresh cases.
func AllCases() []*Case {
	var cs []*Case
	cs = append(cs, framingCases()...)
	cs = append(cs, pingCases()...)
	cs = append(cs, reservedBitsCases()...)
	cs = append(cs, opcodeCases()...)
	cs = append(cs, fragmentationCases()...)
	cs = append(cs, utf8Cases()...)
	cs = append(cs, closeCases()...)
	cs = append(cs, limitCases()...)
	return cs
}
