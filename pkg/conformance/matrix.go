package conformance

// Matrix is every case in report order; Serial cases come last.
func Matrix() []Case {
	var all []Case
	for _, group := range []struct {
		cat   Category
		cases []Case
	}{
		{Quickstart, quickstartCases()},
		{Forged, forgedCases()},
		{Claims, claimsCases()},
		{RFC6750, rfc6750Cases()},
		{Methods, methodsCases()},
		{PathSpellings, pathsCases()},
		{CORS, corsCases()},
		{Stateful, statefulCases()},
		{DPoP, dpopCases()},
		{RFC9728, rfc9728Cases()},
		{Rotation, rotationCases()},
	} {
		for _, c := range group.cases {
			c.Category = group.cat
			all = append(all, c)
		}
	}
	return all
}
