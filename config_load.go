package main

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// configError is one problem with the configuration: where the value came
// from (config.yaml:3, or the environment variable), the key, and what is
// wrong. A value that is a secret is never quoted.
type configError struct {
	where, key, msg string
}

func (e *configError) Error() string {
	var parts []string
	for _, p := range []string{e.where, e.key, e.msg} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}

// origins say where each key's value came from, so that a problem found
// later (by Validate) can name the line or the variable that set it.
type origins struct {
	file  string
	lines map[string]int    // key (api.tokens[0].name) -> the file's line
	env   map[string]string // key -> the variable that set it
}

// of is where key's value came from: the environment wins over the file,
// as when the values were applied; "" for a default. A list's variable or
// line stands for its items.
func (o origins) of(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if v, ok := o.env[k]; ok {
			return v
		}
	}
	for k := key; k != ""; k = parentKey(k) {
		if l, ok := o.lines[k]; ok {
			return fmt.Sprintf("%s:%d", o.file, l)
		}
	}
	return ""
}

// parentKey drops the last ".name" or "[i]" of key.
func parentKey(key string) string {
	return key[:max(strings.LastIndexAny(key, ".["), 0)]
}

// loadConfig reads path (a missing file is an error only when required),
// then applies the environment, then validates. The error lists every
// problem, one a line.
func loadConfig(path string, required bool, getenv func(string) string) (Config, error) {
	cfg, _, errs := load(path, required, getenv)
	return cfg, errors.Join(errs...)
}

// load is loadConfig with where each value came from, and the problems one
// by one.
func load(path string, required bool, getenv func(string) string) (Config, origins, []error) {
	cfg := defaultConfig()
	o := origins{file: path, lines: map[string]int{}, env: map[string]string{}}
	var errs []error
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !required:
	case err != nil:
		return cfg, o, []error{fmt.Errorf("read config: %w", err)}
	default:
		errs = decodeFile(path, b, &cfg, o.lines)
	}
	for _, leaf := range configLeaves(reflect.ValueOf(&cfg).Elem(), "") {
		raw := getenv(leaf.env)
		if raw == "" {
			continue
		}
		var err error
		if ev, ok := leaf.value.Addr().Interface().(envValue); ok {
			err = ev.setEnv(raw)
		} else {
			err = setScalar(leaf.value, raw)
		}
		if err != nil {
			errs = append(errs, &configError{where: leaf.env, key: leaf.key, msg: err.Error()})
			continue
		}
		o.env[leaf.key] = leaf.env
	}
	for _, err := range cfg.problems() {
		if ce, ok := err.(*configError); ok && ce.where == "" {
			ce.where = o.of(ce.key)
		}
		errs = append(errs, err)
	}
	// The file's problems in the file's order, then the environment's.
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(fileLine(o.file, a), fileLine(o.file, b)) })
	return cfg, o, errs
}

// fileLine is the line of the file that err is about; after every line
// when err is not about one.
func fileLine(file string, err error) int {
	if ce, ok := err.(*configError); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(ce.where, file+":")); err == nil {
			return n
		}
	}
	return math.MaxInt
}

// configLeaf is one key of the configuration: its path, its variable and
// its value in the struct walked.
type configLeaf struct {
	key, env string
	value    reflect.Value
}

// configLeaves lists the keys under v, a configuration section, in their
// order: every field that is not a section itself. A key's variable is
// PAYOUTD_ and its path in upper case with "_" for ".".
func configLeaves(v reflect.Value, prefix string) []configLeaf {
	var out []configLeaf
	for i := range v.NumField() {
		key := joinKey(prefix, yamlName(v.Type().Field(i)))
		if fv := v.Field(i); fv.Kind() == reflect.Struct {
			out = append(out, configLeaves(fv, key)...)
		} else {
			out = append(out, configLeaf{key: key, env: "PAYOUTD_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")), value: fv})
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

var durationType = reflect.TypeFor[Duration]()

// setScalar sets a key from its text, in the file or the environment. A
// string (a secret too) always fits, so a secret is never quoted.
func setScalar(v reflect.Value, raw string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("want %s, got %q", want(v.Type()), raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("want %s, got %q", want(v.Type()), raw)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want %s, got %q", want(v.Type()), raw)
		}
		v.SetBool(b)
	default:
		// Only a new field of a kind this function does not know gets here.
		panic(fmt.Sprintf("config: no setter for %s", v.Type()))
	}
	return nil
}

// want says what a key of type t takes, in the words of an error message.
func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 30s or 5m"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64:
		return "an integer"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Slice:
		return `a list ("- item" lines or [a, b])`
	default:
		return "a map of keys"
	}
}

// shape names what a YAML node is, without quoting it: the node may be a
// secret in the wrong place.
func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// fileDecoder decodes config.yaml through yaml.v3's nodes instead of into
// the struct, so that each problem names its line and key (yaml.v3 names
// Go types), every problem of the file is found at once, and the line of
// each key set is known.
type fileDecoder struct {
	file  string
	lines map[string]int
	errs  []error
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeFile decodes the file's text b into cfg, recording in lines the
// line of every key it sets, and returns every problem.
func decodeFile(file string, b []byte, cfg *Config, lines map[string]int) []error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
			return []error{&configError{where: file + ":" + m[1], msg: m[2]}}
		}
		return []error{&configError{where: file, msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if len(doc.Content) == 0 { // empty, or only comments
		return nil
	}
	d := fileDecoder{file: file, lines: lines}
	d.decode(doc.Content[0], reflect.ValueOf(cfg).Elem(), "", doc.Content[0].Line)
	return d.errs
}

func (d *fileDecoder) fail(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &configError{where: fmt.Sprintf("%s:%d", d.file, line), key: key, msg: fmt.Sprintf(format, args...)})
}

// decode sets v, the value of key, from n; line is the key's.
func (d *fileDecoder) decode(n *yaml.Node, v reflect.Value, key string, line int) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.ShortTag() == "!!null" { // "key:" with no value keeps the default, as yaml.v3 did
		return
	}
	switch {
	case v.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(line, key, "want %s, got %s", want(v.Type()), shape(n))
			return
		}
		d.mapping(n, v, key)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(line, key, "want %s, got %s", want(v.Type()), shape(n))
			return
		}
		d.lines[key] = line
		items := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			itemKey := fmt.Sprintf("%s[%d]", key, i)
			d.lines[itemKey] = item.Line
			d.decode(item, items.Index(i), itemKey, item.Line)
		}
		v.Set(items)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(line, key, "want %s, got %s", want(v.Type()), shape(n))
			return
		}
		if err := setScalar(v, n.Value); err != nil {
			d.fail(line, key, "%v", err)
			return
		}
		d.lines[key] = line
	}
}

// mapping sets the fields of v, a section, from n's keys.
func (d *fileDecoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	// Merge keys (<<: *defaults) first: the mapping's own keys win. Of
	// several merged maps, the first wins, so they go last to first.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() != "!!merge" {
			continue
		}
		merged := n.Content[i+1]
		if merged.Kind == yaml.AliasNode {
			merged = merged.Alias
		}
		if merged.Kind == yaml.SequenceNode {
			for j := len(merged.Content) - 1; j >= 0; j-- {
				d.decode(merged.Content[j], v, key, n.Content[i].Line)
			}
			continue
		}
		d.decode(merged, v, key, n.Content[i].Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k.Line, key, "want a key's name, got %s", shape(k))
			continue
		}
		full := joinKey(key, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(k.Line, full, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		field, ok := fieldByName(v, k.Value)
		if !ok {
			d.fail(k.Line, full, "unknown key%s", didYouMean(suggestKey(v.Type(), key, k.Value)))
			continue
		}
		d.decode(val, field, full, k.Line)
	}
}

func fieldByName(v reflect.Value, name string) (reflect.Value, bool) {
	for i := range v.NumField() {
		if yamlName(v.Type().Field(i)) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return ", did you mean " + s + "?"
}

// suggestKey is the known key closest to an unknown key name in the
// section t at prefix: a sibling first, else any key of that name
// anywhere (a key put in the wrong section, or at the top).
func suggestKey(t reflect.Type, prefix, name string) string {
	var siblings []string
	for i := range t.NumField() {
		siblings = append(siblings, yamlName(t.Field(i)))
	}
	if i, ok := closest(name, siblings); ok {
		return joinKey(prefix, siblings[i])
	}
	leaves := configLeaves(reflect.ValueOf(Config{}), "")
	var names []string
	for _, l := range leaves {
		names = append(names, l.key[strings.LastIndex(l.key, ".")+1:])
	}
	if i, ok := closest(name, names); ok {
		return leaves[i].key
	}
	return ""
}

// closest is the index of the candidate nearest to word, when it is near
// (a quarter of word's length in edits, at least one) and no other
// candidate is as near.
func closest(word string, candidates []string) (int, bool) {
	best, bestDist, tie := -1, max(1, len(word)/4)+1, false
	for i, c := range candidates {
		switch d := editDistance(word, c); {
		case d < bestDist:
			best, bestDist, tie = i, d, false
		case best >= 0 && d == bestDist && c != candidates[best]:
			tie = true
		}
	}
	return best, best >= 0 && !tie
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of neighbours that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
