package auth

// interns maps each configured issuer and audience to itself: the strings the claims decoder hands out instead of
// copies. Built once by New and only read afterwards, so decoders share it without a lock.
type interns map[string]string

// newInterns is the set of the non-empty strings of every list given.
func newInterns(lists ...[]string) interns {
	in := interns{}
	for _, l := range lists {
		for _, s := range l {
			if s != "" {
				in[s] = s
			}
		}
	}
	return in
}
