package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigWebhookPreviousKey: the previous key is read from the
// environment, defaults to empty, never prints, and may not equal the
// current key.
func TestConfigWebhookPreviousKey(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cfg, err := loadConfig(missing, false, getenvFrom(nil))
	require.NoError(t, err)
	require.Empty(t, cfg.Coinflow.WebhookPreviousKey.Value(), "default: only webhook_key is accepted")

	cfg, err = loadConfig(missing, false, getenvFrom(map[string]string{
		"PAYOUTD_COINFLOW_WEBHOOK_KEY":          "whsec-new-key",
		"PAYOUTD_COINFLOW_WEBHOOK_PREVIOUS_KEY": "whsec-old-key",
	}))
	require.NoError(t, err)
	require.Equal(t, "whsec-old-key", cfg.Coinflow.WebhookPreviousKey.Value())
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NotContains(t, string(b)+fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), "whsec-old-key")

	_, err = loadConfig(missing, false, getenvFrom(map[string]string{
		"PAYOUTD_COINFLOW_WEBHOOK_KEY":          "whsec-same-key",
		"PAYOUTD_COINFLOW_WEBHOOK_PREVIOUS_KEY": "whsec-same-key",
	}))
	require.ErrorContains(t, err, "coinflow.webhook_previous_key")
	require.NotContains(t, err.Error(), "whsec-same-key")
}
