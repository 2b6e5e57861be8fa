package launch

import (
	"fmt"
	"strconv"
	"strings"
)

// maxHosts bounds the expansion of a host list, so that a malformed range
// such as node[0-999999999] is an error rather than an exhausted memory.
const maxHosts = 1 << 20

// ExpandHostlist expands a Slurm host list such as "node[01-04,07]" or
// "a1,b[1-2]" into host names, in order. Commas outside brackets separate
// entries; inside brackets they separate numbers and ranges lo-hi, and the
// width of lo is kept as zero padding ("[08-10]" gives 08, 09, 10). A name may
// hold several bracket groups: "rack[1-2]-node[01-02]" gives rack1-node01,
// rack1-node02, rack2-node01, rack2-node02 (the last group varies fastest).
// Empty names, unbalanced or nested brackets, non-numeric or reversed ranges
// are errors.
func ExpandHostlist(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("hostlist: empty")
	}
	var hosts []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '[':
				if depth > 0 {
					return nil, fmt.Errorf("hostlist %q: nested '[' at offset %d", s, i)
				}
				depth++
				continue
			case ']':
				if depth == 0 {
					return nil, fmt.Errorf("hostlist %q: unmatched ']' at offset %d", s, i)
				}
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		} else if depth > 0 {
			return nil, fmt.Errorf("hostlist %q: unclosed '['", s)
		}
		entry := strings.TrimSpace(s[start:i])
		if entry == "" {
			return nil, fmt.Errorf("hostlist %q: empty host name at offset %d", s, start)
		}
		var err error
		if hosts, err = expandEntry(hosts, entry); err != nil {
			return nil, fmt.Errorf("hostlist %q: %w", s, err)
		}
		start = i + 1
	}
	return hosts, nil
}

// expandEntry appends the names one entry (no top-level comma) stands for.
func expandEntry(hosts []string, entry string) ([]string, error) {
	open := strings.IndexByte(entry, '[')
	if open < 0 {
		if strings.ContainsAny(entry, " \t\n") {
			return nil, fmt.Errorf("space in host name %q", entry)
		}
		return append(hosts, entry), nil
	}
	end := strings.IndexByte(entry[open:], ']') + open
	prefix, group, rest := entry[:open], entry[open+1:end], entry[end+1:]
	values, err := expandGroup(group)
	if err != nil {
		return nil, err
	}
	// Expand the rest once and combine, so each later group varies faster.
	tails := []string{""}
	if rest != "" {
		if tails, err = expandEntry(nil, rest); err != nil {
			return nil, err
		}
	}
	if len(hosts)+len(values)*len(tails) > maxHosts {
		return nil, fmt.Errorf("more than %d hosts", maxHosts)
	}
	for _, v := range values {
		for _, t := range tails {
			hosts = append(hosts, prefix+v+t)
		}
	}
	return hosts, nil
}

// expandGroup expands the inside of one bracket group: "01-04,07".
func expandGroup(group string) ([]string, error) {
	if group == "" {
		return nil, fmt.Errorf("empty brackets")
	}
	var out []string
	for _, part := range strings.Split(group, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isDigits(lo) || (isRange && !isDigits(hi)) {
			return nil, fmt.Errorf("bad range %q in [%s]", part, group)
		}
		if !isRange {
			out = append(out, lo)
			continue
		}
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b, err2 := strconv.ParseUint(hi, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("range %q in [%s] out of bounds", part, group)
		}
		if a > b {
			return nil, fmt.Errorf("reversed range %q in [%s]", part, group)
		}
		if b-a >= maxHosts || len(out)+int(b-a) >= maxHosts {
			return nil, fmt.Errorf("range %q in [%s] has more than %d hosts", part, group, maxHosts)
		}
		width := len(lo)
		for n := a; n <= b; n++ {
			out = append(out, fmt.Sprintf("%0*d", width, n))
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
