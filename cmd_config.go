package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// configCheckCommand loads the configuration as serve does and prints it,
// each value with where it came from, every secret redacted; or lists every
// problem and exits 2.
func configCheckCommand(*flag.FlagSet) action {
	return func(_ context.Context, e env) error {
		cfg, o, errs := load(e.configPath, e.explicitConfig, e.getenv)
		logCfg := cfg
		if len(errs) > 0 {
			logCfg = defaultConfig()
		}
		warnUnknownEnv(newLogger(logCfg, e.stderr), e.envNames)
		if len(errs) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "config: %d problem", len(errs))
			if len(errs) > 1 {
				b.WriteString("s")
			}
			b.WriteString(":")
			for _, err := range errs {
				b.WriteString("\n  " + err.Error())
			}
			return usageError{b.String()}
		}
		return writeEffectiveConfig(e.stdout, cfg, o)
	}
}

// writeEffectiveConfig writes cfg as YAML that config.yaml could hold,
// each key set by the file or the environment followed by a comment that
// says which. Secrets print as "[redacted]" when set and "" when not.
func writeEffectiveConfig(w io.Writer, cfg Config, o origins) error {
	var root yaml.Node
	if err := root.Encode(cfg); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	annotateOrigins(&root, "", o)
	root.HeadComment = "The effective configuration: the defaults, then " + o.file + " (when present), then the\n" +
		"PAYOUTD_ variables; a comment names what set a value. Secrets show [redacted] when set."
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return enc.Close()
}

// annotateOrigins comments each value under the mapping n (at key) with
// the line or the variable that set it.
func annotateOrigins(n *yaml.Node, key string, o origins) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := joinKey(key, k.Value)
		if v.Kind == yaml.MappingNode {
			annotateOrigins(v, full, o)
			continue
		}
		if where := o.of(full); where != "" {
			k.LineComment = where
		}
	}
}
