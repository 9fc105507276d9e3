package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// secretKeys are the configuration's Secret keys, found by reflection so
// that a new one is covered by the tests below.
func secretKeys() []string {
	var keys []string
	for _, l := range configLeaves(reflect.ValueOf(Config{}), "") {
		if l.value.Type() == reflect.TypeFor[Secret]() {
			keys = append(keys, l.key)
		}
	}
	return keys
}

// lookupYAML finds key (a.b) in decoded YAML.
func lookupYAML(t *testing.T, doc map[string]any, key string) any {
	t.Helper()
	var v any = doc
	for part := range strings.SplitSeq(key, ".") {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s: %v is not a map", key, v)
		v, ok = m[part]
		require.True(t, ok, "%s: no %q", key, part)
	}
	return v
}

func configCheck(t *testing.T, path string, env map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(t.Context(), []string{"payoutd", "config", "check", "--config", path}, getenvFrom(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestConfigCheckRedactsEverySecret(t *testing.T) {
	// A valid value holding a marker for each secret; half come from the
	// file, half from the environment.
	webhookSecret := base64.StdEncoding.EncodeToString([]byte("MARKER-alert-webhook-key"))
	values := map[string]string{
		"database.url":                  "postgres://payoutd:MARKER-db-password@db.example:5432/payoutd",
		"coinflow.api_key":              "MARKER-coinflow-api-key",
		"coinflow.webhook_key":          "MARKER-coinflow-webhook-key",
		"coinflow.webhook_previous_key": "MARKER-coinflow-previous-key",
		"api.token":                     "MARKER-api-token",
		"alerts.slack_webhook_url":      "https://hooks.slack.com/services/MARKER-slack",
		"alerts.webhook_url":            "https://alerts.example/MARKER-webhook-url",
		"alerts.pagerduty_routing_key":  "MARKER-pagerduty-routing-key",
		"alerts.webhook_secret":         "whsec_" + webhookSecret,
	}
	keys := secretKeys()
	require.Len(t, keys, len(values), "every Secret key has a marker value here")
	sections := map[string]string{"api": "  tokens:\n    - name: alice\n      token: MARKER-named-token-0123\n"}
	env := map[string]string{}
	for i, key := range keys {
		v, ok := values[key]
		require.True(t, ok, "no marker value for %s", key)
		if i%2 == 0 {
			section, name, _ := strings.Cut(key, ".")
			sections[section] += "  " + name + ": " + v + "\n"
		} else {
			env["PAYOUTD_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = v
		}
	}
	var file strings.Builder
	for section, body := range sections {
		file.WriteString(section + ":\n" + body)
	}
	path := writeConfig(t, file.String())
	stdout, stderr, err := configCheck(t, path, env)
	require.NoError(t, err, stderr)
	for _, marker := range []string{"MARKER", webhookSecret} {
		require.NotContains(t, stdout+stderr, marker)
	}
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &doc))
	for _, key := range keys {
		require.Equal(t, "[redacted]", lookupYAML(t, doc, key), key)
	}
	tokens := lookupYAML(t, doc, "api.tokens").([]any)
	require.Equal(t, map[string]any{"name": "alice", "token": "[redacted]"}, tokens[0])

	stdout, stderr, err = configCheck(t, writeConfig(t, ""), nil)
	require.NoError(t, err, stderr)
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &doc))
	for _, key := range keys {
		require.Equal(t, "", lookupYAML(t, doc, key), "%s is unset: shown empty", key)
	}
}

func TestConfigCheckPrintsTheEffectiveConfiguration(t *testing.T) {
	path := writeConfig(t, "listen: 127.0.0.1:9999\nwallet:\n  low_balance_cents: 500\nreconcile:\n  lookback: 36h\n")
	env := map[string]string{"PAYOUTD_WALLET_LOW_BALANCE_CENTS": "700", "PAYOUTD_KYC_FIRST_CHECK": "90s"}
	stdout, stderr, err := configCheck(t, path, env)
	require.NoError(t, err, stderr)
	for _, want := range []string{
		"listen: 127.0.0.1:9999 # " + path + ":1\n",
		"  low_balance_cents: 700 # PAYOUTD_WALLET_LOW_BALANCE_CENTS\n",
		"  lookback: 36h # " + path + ":5\n",
		"  first_check: 1m30s # PAYOUTD_KYC_FIRST_CHECK\n",
		"  schedule: '@every 5m'\n", // a default: no comment
		"  signature_tolerance: 5m\n",
	} {
		require.Contains(t, stdout, want)
	}

	// What it prints is a configuration file that loads to the same
	// configuration.
	want, err := loadConfig(path, true, getenvFrom(env))
	require.NoError(t, err)
	printed := filepath.Join(t.TempDir(), "printed.yaml")
	require.NoError(t, os.WriteFile(printed, []byte(stdout), 0o600))
	got, err := loadConfig(printed, true, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestConfigCheckListsEveryProblem(t *testing.T) {
	path := writeConfig(t, "listen: nowhere\nwallet:\n  low_balance_cents: lots\ncoinflow:\n  webhok_key: x\n")
	stdout, _, err := configCheck(t, path, map[string]string{"PAYOUTD_API_TOKEN": "", "PAYOUTD_KYC_STALL_AFTER": "-1h"})
	require.Error(t, err)
	require.Equal(t, 2, exitCode(err))
	require.Empty(t, stdout, "no configuration printed when it is not valid")
	require.Equal(t, strings.Join([]string{
		"config: 4 problems:",
		"  " + path + `:1: listen: "nowhere" is not host:port`,
		"  " + path + `:3: wallet.low_balance_cents: want an integer, got "lots"`,
		"  " + path + ":5: coinflow.webhok_key: unknown key, did you mean coinflow.webhook_key?",
		"  PAYOUTD_KYC_STALL_AFTER: kyc.stall_after: must be positive",
	}, "\n"), err.Error())
}
