package sweep

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/efmpi/efmpi/runfile"
)

// Axis is one dimension of a grid. A plain axis is a config key and its
// values (TOML text): Key "stepsize.gamma0", Values ["0.1", "1"]. A set axis
// has a name without a dot, and each of its values is a set of overrides
// applied together: Key "variant", Values ["algorithm.method=ef21
// algorithm.normalize=true", "algorithm.method=ef14"], Sets the same split
// into single overrides. An override "section.key=" (nothing after "=")
// unsets the key: the base config's value is dropped and the default (or
// nothing, for a key that does not apply) is used.
type Axis struct {
	Key    string
	Values []string
	// Sets holds, for a set axis, the overrides of each value; nil for a
	// plain axis.
	Sets [][]string
}

// IsSet reports whether the axis is a set axis.
func (a Axis) IsSet() bool { return a.Sets != nil }

// overrides returns the `-set` overrides of the axis's i-th value.
func (a Axis) overrides(i int) []string {
	if a.Sets != nil {
		return a.Sets[i]
	}
	return []string{a.Key + "=" + a.Values[i]}
}

// keys returns the config keys the axis sets (any value).
func (a Axis) keys() []string {
	if a.Sets == nil {
		return []string{a.Key}
	}
	var out []string
	seen := map[string]bool{}
	for _, set := range a.Sets {
		for _, o := range set {
			k := o[:strings.IndexByte(o, '=')]
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// ParseAxis reads one -grid flag:
//
//	section.key=v1,v2,...           a plain axis (a value may be a quoted TOML
//	                                string holding commas: "\"a,b\"")
//	NAME=ov ov ...|ov ...|...       a set axis: NAME has no dot; values are
//	                                separated by |, each a space-separated list
//	                                of section.key=value overrides
//	                                (section.key= unsets the key)
func ParseAxis(s string) (Axis, error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return Axis{}, fmt.Errorf("grid %q: want section.key=v1,v2,... or NAME=ov ov|ov|...", s)
	}
	key := strings.TrimSpace(s[:eq])
	if !strings.Contains(key, ".") {
		return parseSetAxis(s, key, s[eq+1:])
	}
	if err := checkKey(key); err != nil {
		return Axis{}, fmt.Errorf("grid %q: %v", s, err)
	}
	vals, err := splitValues(s[eq+1:], ',')
	if err != nil {
		return Axis{}, fmt.Errorf("grid %q: %v", s, err)
	}
	if len(vals) == 0 {
		return Axis{}, fmt.Errorf("grid %q: no values", s)
	}
	for _, v := range vals {
		if v == "" {
			return Axis{}, fmt.Errorf("grid %q: empty value (to unset a key use a set axis, e.g. NAME=%s=|...)", s, key)
		}
	}
	return Axis{Key: key, Values: vals}, nil
}

func checkKey(key string) error {
	if dot := strings.IndexByte(key, '.'); dot <= 0 || dot == len(key)-1 || strings.Count(key, ".") != 1 ||
		strings.ContainsAny(key, " \t") {
		return fmt.Errorf("key %q: want section.key", key)
	}
	return nil
}

// parseSetAxis reads the values of a set axis "NAME=ov ov|ov|...".
func parseSetAxis(s, name, rest string) (Axis, error) {
	if strings.ContainsAny(name, " \t,|") {
		return Axis{}, fmt.Errorf("grid %q: axis name %q: want a word (or section.key for a plain axis)", s, name)
	}
	if slices.Contains(runfile.TableHeader(true), name) || slices.Contains([]string{"point", "role", "file", "error"}, name) {
		return Axis{}, fmt.Errorf("grid %q: axis name %q is also a column of sweep.csv; choose another (e.g. variant)", s, name)
	}
	vals, err := splitValues(rest, '|')
	if err != nil {
		return Axis{}, fmt.Errorf("grid %q: %v", s, err)
	}
	a := Axis{Key: name}
	for i, v := range vals {
		words, err := splitValues(v, ' ')
		if err != nil {
			return Axis{}, fmt.Errorf("grid %q value %d: %v", s, i+1, err)
		}
		var set []string
		seen := map[string]bool{}
		for _, w := range words {
			if w == "" {
				continue
			}
			eq := strings.IndexByte(w, '=')
			if eq <= 0 {
				return Axis{}, fmt.Errorf("grid %q value %d: %q: want section.key=value (section.key= unsets it)", s, i+1, w)
			}
			k := w[:eq]
			if err := checkKey(k); err != nil {
				return Axis{}, fmt.Errorf("grid %q value %d: %v", s, i+1, err)
			}
			if seen[k] {
				return Axis{}, fmt.Errorf("grid %q value %d: %s given twice", s, i+1, k)
			}
			seen[k] = true
			set = append(set, w)
		}
		if len(set) == 0 {
			return Axis{}, fmt.Errorf("grid %q value %d is empty", s, i+1)
		}
		a.Values = append(a.Values, strings.Join(set, " "))
		a.Sets = append(a.Sets, set)
	}
	return a, nil
}

// splitValues splits on sep outside double quotes and trims spaces; sep ' '
// stands for any white space (a set axis may span lines).
func splitValues(s string, sep rune) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == sep || (sep == ' ' && (r == '\t' || r == '\n' || r == '\r'))) && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	out = append(out, strings.TrimSpace(cur.String()))
	if sep != ' ' {
		for _, v := range out {
			if v == "" {
				return nil, fmt.Errorf("empty value")
			}
		}
	}
	return out, nil
}

// Point is one grid point: a value for every axis, in axis order.
type Point struct {
	// Index numbers the points from 0 in expansion order.
	Index int
	// Keys are the axis names (config keys for plain axes) and Values the
	// point's value of each, as written on the command line.
	Keys   []string
	Values []string
	over   []string
}

// Overrides returns the point as `-set` overrides "key=value" (a set axis
// contributes all of its value's overrides; "key=" unsets a key).
func (p Point) Overrides() []string {
	if p.over != nil {
		return append([]string(nil), p.over...)
	}
	out := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		out[i] = k + "=" + p.Values[i]
	}
	return out
}

// String is the overrides separated by spaces, "key=value key=value".
func (p Point) String() string { return strings.Join(p.Overrides(), " ") }

// Expand returns the cartesian product of the axes in nested-loop order:
// the first axis varies slowest, the last fastest. No axes give one empty
// point (the base config alone). A config key may be set by one axis only.
func Expand(axes []Axis) ([]Point, error) { return ExpandZip(axes, nil) }

// ExpandZip is Expand with paired axes: each group in zip names axes (by
// Key) that have the same number of values and advance together, like Go's
// zip of lists, instead of forming their product. A group takes the place
// of its earliest axis in the nesting order.
func ExpandZip(axes []Axis, zip [][]string) ([]Point, error) {
	seenKey := map[string]string{}
	seenName := map[string]bool{}
	for _, a := range axes {
		if seenName[a.Key] {
			return nil, fmt.Errorf("grid axis %s given twice", a.Key)
		}
		seenName[a.Key] = true
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("grid axis %s has no values", a.Key)
		}
		for _, k := range a.keys() {
			if other, ok := seenKey[k]; ok {
				if other == a.Key {
					return nil, fmt.Errorf("grid key %s given twice", k)
				}
				return nil, fmt.Errorf("grid key %s is set by two axes (%s and %s)", k, other, a.Key)
			}
			seenKey[k] = a.Key
		}
	}
	// dims: groups of axis indices that advance together
	group := make([]int, len(axes)) // axis → its dimension
	for i := range group {
		group[i] = -1
	}
	index := map[string]int{}
	for i, a := range axes {
		index[a.Key] = i
	}
	var dims [][]int
	for _, z := range zip {
		if len(z) < 2 {
			return nil, fmt.Errorf("-zip %s: name at least two axes", strings.Join(z, ","))
		}
		var members []int
		for _, name := range z {
			i, ok := index[name]
			if !ok {
				return nil, fmt.Errorf("-zip %s: no grid axis %s", strings.Join(z, ","), name)
			}
			if group[i] != -1 {
				return nil, fmt.Errorf("-zip: axis %s is zipped twice", name)
			}
			if n, m := len(axes[i].Values), len(axes[index[z[0]]].Values); n != m {
				return nil, fmt.Errorf("-zip %s: %s has %d values, %s has %d", strings.Join(z, ","), z[0], m, name, n)
			}
			group[i] = -2 // placed below
			members = append(members, i)
		}
		sort.Ints(members)
		dims = append(dims, members)
	}
	// order dimensions by their first axis; unzipped axes are their own
	var ordered [][]int
	placed := map[int]bool{}
	for i := range axes {
		if group[i] == -1 {
			ordered = append(ordered, []int{i})
			continue
		}
		for d, members := range dims {
			if !placed[d] && members[0] == i {
				ordered = append(ordered, members)
				placed[d] = true
			}
		}
	}
	n := 1
	for _, dim := range ordered {
		n *= len(axes[dim[0]].Values)
	}
	points := make([]Point, n)
	for i := range points {
		p := Point{Index: i, Keys: make([]string, len(axes)), Values: make([]string, len(axes))}
		choice := make([]int, len(axes))
		rest := i
		for j := len(ordered) - 1; j >= 0; j-- {
			m := len(axes[ordered[j][0]].Values)
			for _, a := range ordered[j] {
				choice[a] = rest % m
			}
			rest /= m
		}
		for j, a := range axes {
			p.Keys[j] = a.Key
			p.Values[j] = a.Values[choice[j]]
			p.over = append(p.over, a.overrides(choice[j])...)
		}
		points[i] = p
	}
	return points, nil
}

// ParseZip reads one -zip flag: axis names separated by commas.
func ParseZip(s string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n == "" {
			return nil, fmt.Errorf("-zip %q: empty axis name", s)
		}
		out = append(out, n)
	}
	return out, nil
}
