package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeConfig writes text as config.yaml in a new directory and returns
// its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// problems loads path with env and returns each problem with the file's
// directory cut, as "config.yaml:3: key: message".
func problems(t *testing.T, path string, env map[string]string) []string {
	t.Helper()
	_, _, errs := load(path, true, getenvFrom(env))
	var out []string
	for _, err := range errs {
		out = append(out, strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), ""))
	}
	return out
}

func TestConfigFileErrorsNameLineAndKey(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		want []string
	}{
		"not an integer": {
			"listen: 127.0.0.1:1\nwallet:\n  low_balance_cents: lots\n",
			[]string{`config.yaml:3: wallet.low_balance_cents: want an integer, got "lots"`},
		},
		"unknown key, close to a known one": {
			"# comment\ncoinflow:\n  base_url: https://coinflow.example\n  api_key: k\n  webhok_key: k\n",
			[]string{"config.yaml:5: coinflow.webhok_key: unknown key, did you mean coinflow.webhook_key?"},
		},
		"unknown key, close to none": {
			"coinflow:\n  frobnicate: 1\n",
			[]string{"config.yaml:2: coinflow.frobnicate: unknown key"},
		},
		"a key in the wrong section": {
			"log:\n  level: info\nwebhook_key: k\n",
			[]string{"config.yaml:3: webhook_key: unknown key, did you mean coinflow.webhook_key?"},
		},
		"a misspelt section": {
			"reconcil:\n  schedule: '@every 1m'\n",
			[]string{"config.yaml:1: reconcil: unknown key, did you mean reconcile?"},
		},
		"a map where a value is expected": {
			"listen:\n  host: 127.0.0.1\n  port: 80\n",
			[]string{"config.yaml:1: listen: want a string, got a map"},
		},
		"a list where an integer is expected": {
			"wallet:\n  low_balance_cents: [1, 2]\n",
			[]string{"config.yaml:2: wallet.low_balance_cents: want an integer, got a list"},
		},
		"a value where a section is expected": {
			"coinflow: sandbox\n",
			[]string{"config.yaml:1: coinflow: want a map of keys, got a single value"},
		},
		"a value where a list is expected": {
			"trusted_proxies: 10.0.0.1\n",
			[]string{`config.yaml:1: trusted_proxies: want a list ("- item" lines or [a, b]), got a single value`},
		},
		"duration and bool": {
			"alerts:\n  notify_resolved: sometimes\n  renotify_interval: daily\n",
			[]string{
				`config.yaml:2: alerts.notify_resolved: want true or false, got "sometimes"`,
				`config.yaml:3: alerts.renotify_interval: want a duration like 30s or 5m, got "daily"`,
			},
		},
		"a key set twice": {
			"listen: 127.0.0.1:1\nlog:\n  level: info\nlisten: 127.0.0.1:2\n",
			[]string{"config.yaml:4: listen: set twice (first on line 1)"},
		},
		"in a list item, with the item's validation": {
			"api:\n  tokens:\n    - name: alice\n      tokn: alice-token-0123456789\n",
			[]string{
				"config.yaml:3: api.tokens[0].token: must be at least 16 characters",
				"config.yaml:4: api.tokens[0].tokn: unknown key, did you mean api.tokens[0].token?",
			},
		},
		"validation names the line of the key the file set": {
			"log:\n  level: loud\ndashboard:\n  secure_cookies: sometimes\ntrusted_proxies:\n  - 10.0.0.0/8\n  - proxy.local\n",
			[]string{
				`config.yaml:2: log.level: "loud" is not debug, info, warn or error`,
				`config.yaml:4: dashboard.secure_cookies: "sometimes" is not auto, true or false`,
				`config.yaml:7: trusted_proxies[1]: "proxy.local" is not an IP address or CIDR`,
			},
		},
		"every problem of the file at once, in its order": {
			"wallet:\n  low_balance_cents: lots\n  drift_tolerance_cents: -1\nlisten:\n  host: x\nlisen: 127.0.0.1:1\n",
			[]string{
				`config.yaml:2: wallet.low_balance_cents: want an integer, got "lots"`,
				"config.yaml:3: wallet.drift_tolerance_cents: must be at least 0",
				"config.yaml:4: listen: want a string, got a map",
				"config.yaml:6: lisen: unknown key, did you mean listen?",
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := problems(t, writeConfig(t, tc.file), nil)
			require.Equal(t, tc.want, got)
			for _, p := range got {
				for _, goWord := range []string{"struct", "main.", "!!", "yaml: ", "reflect"} {
					require.NotContains(t, p, goWord, "no Go or YAML library words")
				}
			}
		})
	}
}

func TestConfigFileSyntaxErrorNamesLine(t *testing.T) {
	got := problems(t, writeConfig(t, "listen: 127.0.0.1:1\nlog:\n  level: [info\n"), nil)
	require.Len(t, got, 1)
	require.Regexp(t, `^config\.yaml:\d+: \S`, got[0])
	require.NotContains(t, got[0], "yaml: ")
}

func TestConfigFileShapesNeverQuoteSecrets(t *testing.T) {
	got := problems(t, writeConfig(t, "api:\n  token:\n    nested: secret-in-a-map\ncoinflow:\n  api_key: [secret-in-a-list]\n"), nil)
	require.Equal(t, []string{
		"config.yaml:2: api.token: want a string, got a map",
		"config.yaml:5: coinflow.api_key: want a string, got a list",
	}, got)
}

func TestConfigFileNullKeepsDefaultAndMergeKeysApply(t *testing.T) {
	path := writeConfig(t, "listen:\nkyc:\n  first_check: 2m\n")
	cfg, err := loadConfig(path, true, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, defaultConfig().Listen, cfg.Listen, `"listen:" with no value keeps the default`)

	path = writeConfig(t, "alerts:\n  <<: {renotify_interval: 6h, summary_threshold: 3}\n  summary_threshold: 5\n")
	cfg, err = loadConfig(path, true, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, 6*time.Hour, cfg.Alerts.RenotifyInterval.D(), "a merged key applies")
	require.Equal(t, 5, cfg.Alerts.SummaryThreshold, "the mapping's own key wins over the merged one")
}

func TestConfigEnvironmentErrorsNameTheVariable(t *testing.T) {
	path := writeConfig(t, "dashboard:\n  secure_cookies: sometimes\nwallet:\n  low_balance_cents: 5\n")
	got := problems(t, path, map[string]string{
		"PAYOUTD_DASHBOARD_SECURE_COOKIES": "never",
		"PAYOUTD_WALLET_LOW_BALANCE_CENTS": "12.5",
		"PAYOUTD_ALERTS_NOTIFY_RESOLVED":   "maybe",
	})
	require.Equal(t, []string{
		`PAYOUTD_WALLET_LOW_BALANCE_CENTS: wallet.low_balance_cents: want an integer, got "12.5"`,
		`PAYOUTD_ALERTS_NOTIFY_RESOLVED: alerts.notify_resolved: want true or false, got "maybe"`,
		`PAYOUTD_DASHBOARD_SECURE_COOKIES: dashboard.secure_cookies: "never" is not auto, true or false`,
	}, got, "the environment's value is the one checked: its variable is named, not the file's line")
}

func TestRunConfigErrorExits2WithLineAndKey(t *testing.T) {
	path := writeConfig(t, "listen: 127.0.0.1:1\nwallet:\n  low_balance_cents: lots\ncoinflow:\n  webhok_key: k\n")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"payoutd", "migrate", "--config", path}, getenvFrom(nil), &stdout, &stderr)
	require.Error(t, err)
	require.Equal(t, 2, exitCode(err))
	require.Equal(t, "config: "+path+`:3: wallet.low_balance_cents: want an integer, got "lots"; `+
		path+":5: coinflow.webhok_key: unknown key, did you mean coinflow.webhook_key?", err.Error())
}

// TestEveryKeyHasASetter: each key is set from text by its own setEnv or
// by setScalar, so neither the file nor the environment meets a kind that
// setScalar does not know.
func TestEveryKeyHasASetter(t *testing.T) {
	cfg := defaultConfig()
	for _, l := range configLeaves(reflect.ValueOf(&cfg).Elem(), "") {
		if _, ok := l.value.Addr().Interface().(envValue); ok {
			continue
		}
		require.NotPanics(t, func() { _ = setScalar(l.value, "1") }, l.key)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"listen", "listen", 0},
		{"lisen", "listen", 1},
		{"webhok_key", "webhook_key", 1},
		{"levle", "level", 1}, // a swap of neighbours is one edit
		{"kitten", "sitting", 3},
		{"", "abc", 3},
	} {
		require.Equal(t, tc.want, editDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
		require.Equal(t, tc.want, editDistance(tc.b, tc.a), "%q %q", tc.b, tc.a)
	}
	_, ok := closest("tokn", []string{"token", "tokin"})
	require.False(t, ok, "two candidates as close: no suggestion")
}

func TestUnknownEnvironmentVariables(t *testing.T) {
	got := unknownEnv([]string{
		"HOME", "PAYOUTD_LISTEN", "PAYOUTD_API_TOKENS", "PAYOUTD_ALERTS_WEBHOOK_SECRET",
		"PAYOUTD_TEST_DATABASE_URL", "PAYOUTD_TEST_REQUIRE_POSTGRES", "PAYOUTD_ARTIFACTS", "PAYOUTD_CHROMIUM", "PAYOUTD_CRASH_BUILD_TAGS",
		"PAYOUTD_WEBHOK_KEY", "PAYOUTD_LISTN", "PAYOUTD_API_TOKN", "PAYOUTD_FROBNICATE", "XPAYOUTD_LISTN",
	})
	require.Equal(t, []unknownEnvVar{
		{name: "PAYOUTD_API_TOKN", suggestion: "PAYOUTD_API_TOKEN"},
		{name: "PAYOUTD_FROBNICATE"},
		{name: "PAYOUTD_LISTN", suggestion: "PAYOUTD_LISTEN"},
		{name: "PAYOUTD_WEBHOK_KEY", suggestion: "PAYOUTD_COINFLOW_WEBHOOK_KEY"},
	}, got)
}

// warnings are the unknown-variable warnings among JSON log lines.
func warnings(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		if entry["msg"] == "unknown PAYOUTD_ environment variable ignored" {
			require.Equal(t, "warning", entry["level"])
			delete(entry, "time")
			out = append(out, entry)
		}
	}
	return out
}

func TestRunWarnsOfUnknownEnvironmentVariables(t *testing.T) {
	dir := t.TempDir()
	environ := []string{
		"HOME=" + dir, "PAYOUTD_LOG_FORMAT=json", "PAYOUTD_DATABASE_URL=sqlite:" + filepath.Join(dir, "p.db"),
		"PAYOUTD_TEST_DATABASE_URL=postgres://u:p@127.0.0.1/x", "PAYOUTD_TEST_REQUIRE_POSTGRES=1",
		"PAYOUTD_ARTIFACTS=" + dir, "PAYOUTD_CHROMIUM=/usr/bin/chromium", "PAYOUTD_CRASH_BUILD_TAGS=x",
		"PAYOUTD_WEBHOK_KEY=value-never-logged", "PAYOUTD_FROBNICATE=another-value-never-logged",
	}
	want := []map[string]any{
		{"level": "warning", "msg": "unknown PAYOUTD_ environment variable ignored", "component": "config", "variable": "PAYOUTD_FROBNICATE"},
		{"level": "warning", "msg": "unknown PAYOUTD_ environment variable ignored", "component": "config", "variable": "PAYOUTD_WEBHOK_KEY", "did_you_mean": "PAYOUTD_COINFLOW_WEBHOOK_KEY"},
	}
	for name, args := range map[string][]string{
		"a command that loads the configuration": {"payoutd", "migrate"},
		"config check":                           {"payoutd", "config", "check"},
		"an invalid configuration":               {"payoutd", "migrate", "--config", writeConfig(t, "listen: [\n")},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runEnviron(t.Context(), args, environ, &stdout, &stderr)
			if name == "an invalid configuration" {
				require.Equal(t, 2, exitCode(err))
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, want, warnings(t, stderr.String()))
			require.NotContains(t, stderr.String()+stdout.String(), "value-never-logged")
		})
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, runEnviron(t.Context(), []string{"payoutd", "version"}, environ, &stdout, &stderr))
	require.Empty(t, stderr.String(), "version reads no configuration and warns of nothing")
}

// TestRepositoryReadsOnlyKnownVariables: every PAYOUTD_ variable that a
// file of the repository reads (Go, shell, CI, packaging) is a
// configuration key's or one of otherEnv, so that setting it never warns.
func TestRepositoryReadsOnlyKnownVariables(t *testing.T) {
	reads := regexp.MustCompile(`(?:[Gg]etenv|LookupEnv)\("(PAYOUTD_[A-Z0-9_]+)"\)|\$\{?(PAYOUTD_[A-Z0-9_]+)|export (PAYOUTD_[A-Z0-9_]+)|ENV (PAYOUTD_[A-Z0-9_]+)|Environment="?(PAYOUTD_[A-Z0-9_]+)`)
	found := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if slices.Contains([]string{".git", "testdata", "artifacts", "data", "node_modules"}, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 1<<20 || strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil || bytes.IndexByte(b, 0) >= 0 { // binary
			return err
		}
		for _, m := range reads.FindAllStringSubmatch(string(b), -1) {
			for _, name := range m[1:] {
				if name != "" {
					found[name] = path
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, found, "PAYOUTD_TEST_DATABASE_URL", "the scan finds what the tests read")
	var names []string
	for name := range found {
		names = append(names, name)
	}
	for _, u := range unknownEnv(names) {
		t.Errorf("%s reads %s, which payoutd would warn of: add it to otherEnv (config_env.go)", found[u.name], u.name)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	require.Equal(t, "config.yaml:3: a.b: bad", (&configError{where: "config.yaml:3", key: "a.b", msg: "bad"}).Error())
	require.Equal(t, "a.b: bad", (&configError{key: "a.b", msg: "bad"}).Error())
	require.Equal(t, "config.yaml:1: bad", (&configError{where: "config.yaml:1", msg: "bad"}).Error())
}
