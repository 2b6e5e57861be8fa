package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// This file is the message machinery of Parse: which line of the file set a
// key, which known key an unknown one was probably meant to be, and whether
// an error belongs to the file or to a -set override.

// valueError is an unknown value of a key with a fixed set of values.
type valueError struct {
	key, value string
	allowed    []string
}

func (e *valueError) Error() string {
	return fmt.Sprintf("[%s] = %q: unknown value (want %s)%s", e.key, e.value, strings.Join(e.allowed, ", "), didYouMean(e.value, e.allowed))
}

// inapplicableError is a key set although it does not apply.
type inapplicableError struct{ key, why string }

func (e *inapplicableError) Error() string {
	return fmt.Sprintf("key %s does not apply %s", e.key, e.why)
}

// keyOf returns the "section.key" an error of validate is about, if it
// says.
func keyOf(err error) string {
	var ve *valueError
	var ie *inapplicableError
	switch {
	case errors.As(err, &ve):
		return ve.key
	case errors.As(err, &ie):
		return ie.key
	}
	return ""
}

// knownKeys maps every section of the config to its keys, from the toml
// tags of Config.
func knownKeys() map[string][]string {
	out := map[string][]string{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		sec, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if sec == "" || sec == "-" || f.Type.Kind() != reflect.Struct {
			continue
		}
		for j := range f.Type.NumField() {
			if k, _, _ := strings.Cut(f.Type.Field(j).Tag.Get("toml"), ","); k != "" && k != "-" {
				out[sec] = append(out[sec], k)
			}
		}
		sort.Strings(out[sec])
	}
	return out
}

// unknownKey words an unknown key k (table: k names a table, i.e. an
// unknown section) with a suggestion: the known key of the same section
// nearest by edit distance, the section that holds a key of that name, or
// the section nearest to an unknown section's name.
func unknownKey(k toml.Key, table bool) string {
	known := knownKeys()
	secs := make([]string, 0, len(known))
	for s := range known {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	holder := func(key string) string {
		for _, s := range secs {
			for _, other := range known[s] {
				if other == key {
					return s
				}
			}
		}
		return ""
	}
	switch {
	case len(k) == 1 && table:
		if near := nearest(k[0], secs); near != "" {
			return fmt.Sprintf("unknown section [%s]; did you mean [%s]?", k[0], near)
		}
		return fmt.Sprintf("unknown section [%s]", k[0])
	case len(k) == 1:
		msg := fmt.Sprintf("unknown key %q at the top level (keys belong to a section such as [run])", k[0])
		if s := holder(k[0]); s != "" {
			msg += fmt.Sprintf("; did you mean %q in [%s]?", k[0], s)
		}
		return msg
	case len(k) == 2:
		msg := fmt.Sprintf("unknown key %q in [%s]", k[1], k[0])
		if near := nearest(k[1], known[k[0]]); near != "" {
			return msg + fmt.Sprintf("; did you mean %q?", near)
		}
		if s := holder(k[1]); s != "" {
			return msg + fmt.Sprintf("; %q belongs to [%s]", k[1], s)
		}
		return msg
	}
	return fmt.Sprintf("unknown key %q", k.String())
}

// didYouMean is "; did you mean "x"?" for the candidate nearest to v, or "".
func didYouMean(v string, candidates []string) string {
	if near := nearest(v, candidates); near != "" {
		return fmt.Sprintf("; did you mean %q?", near)
	}
	return ""
}

// nearest returns the candidate closest to s by edit distance (the first in
// order on a tie), if it is within a third of s's length (at least 1, at
// most 3 edits); "" otherwise.
func nearest(s string, candidates []string) string {
	limit := min(3, max(1, len([]rune(s))/3))
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (in runes), an
// adjacent transposition counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// keyLine returns the 1-based line of data that sets key (section.key, or
// a top-level name) in a plain `key = value` line under its [section]
// header, or (table) the line of the header [key]; 0 when no such line is
// found (dotted keys, inline tables).
func keyLine(data []byte, key string, table bool) int {
	sec, name, dotted := strings.Cut(key, ".")
	if !dotted {
		sec, name = "", key
	}
	cur := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "[[") {
			if end := strings.IndexByte(t, ']'); end > 0 {
				cur = strings.Trim(strings.TrimSpace(t[1:end]), `"'`)
				if table && cur == key {
					return i + 1
				}
			}
			continue
		}
		k, _, ok := strings.Cut(t, "=")
		if !ok || cur != sec {
			continue
		}
		if strings.Trim(strings.TrimSpace(k), `"'`) == name {
			return i + 1
		}
	}
	return 0
}

// overrideKey is the "section.key" of a -set override.
func overrideKey(o string) string {
	k, _, _ := strings.Cut(o, "=")
	return strings.TrimSpace(k)
}
