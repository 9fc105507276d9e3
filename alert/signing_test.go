package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// The secrets of these tests: "whsec_" and the base64 of 32 bytes.
var (
	signingSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("payoutd-alert-signing-key-32byte"))
	otherSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte("not-the-key-the-sender-used-32by"))
)

// verifyStandardWebhook is a receiver's check, written from the Standard
// Webhooks specification (standardwebhooks.com) and not from payoutd's
// code: the key is the base64 after "whsec_"; the signed content is
// "{webhook-id}.{webhook-timestamp}.{body}"; webhook-signature is a
// space-separated list of "v1,{base64 HMAC-SHA256}" of which one must
// match, compared in constant time; a timestamp outside the tolerance of
// the receiver's clock is refused.
func verifyStandardWebhook(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing required headers")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("invalid timestamp")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside tolerance")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Split(sigs, " ") {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// TestSignedAlertWebhookVerifies: a delivered alert verifies under the
// secret with an independent verifier; the same delivery with a tampered
// body, under another secret, or replayed later does not. A retry carries
// the same webhook-id with its own timestamp and signature.
func TestSignedAlertWebhookVerifies(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{
			cfg:     Config{Dispatcher: DispatcherConfig{WebhookSecret: signingSecret}},
			hook:    failFirst(1, http.StatusServiceUnavailable),
			noSlack: true, noPD: true,
		})
		raise(t, store, models.KindStuckPayout, "p-signed", models.SeverityError)

		b.tick(t)
		require.Equal(t, 1, b.hook.count())
		first := b.hook.last(t)
		clock.Advance(10 * time.Second) // the first retry's backoff
		b.tick(t)
		require.Equal(t, 2, b.hook.count())
		retry := b.hook.last(t)

		for _, req := range []request{first, retry} {
			at, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
			require.NoError(t, err)
			require.NoError(t, verifyStandardWebhook(signingSecret, req.Header, req.Body, time.Unix(at, 0)))
		}
		require.NoError(t, verifyStandardWebhook(signingSecret, retry.Header, retry.Body, clock.Now()))
		require.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), retry.Header.Get("webhook-timestamp"), "the injected clock's time")
		require.Equal(t, strconv.FormatInt(start.Unix(), 10), first.Header.Get("webhook-timestamp"))
		var a Alert
		require.NoError(t, json.Unmarshal(retry.Body, &a))
		require.Equal(t, a.ID, retry.Header.Get("webhook-id"), "webhook-id is the alert's id")
		require.Equal(t, first.Header.Get("webhook-id"), retry.Header.Get("webhook-id"), "stable across retries")
		require.NotEqual(t, first.Header.Get("webhook-signature"), retry.Header.Get("webhook-signature"), "each attempt is signed at its own time")

		tampered := []byte(strings.Replace(string(retry.Body), "p-signed", "p-forged", 1))
		require.NotEqual(t, retry.Body, tampered)
		require.Error(t, verifyStandardWebhook(signingSecret, retry.Header, tampered, clock.Now()), "a tampered body")
		require.Error(t, verifyStandardWebhook(otherSecret, retry.Header, retry.Body, clock.Now()), "another secret")
		require.Error(t, verifyStandardWebhook(signingSecret, retry.Header, retry.Body, clock.Now().Add(time.Hour)), "a replay an hour later")
		moved := retry.Header.Clone()
		moved.Set("webhook-timestamp", strconv.FormatInt(clock.Now().Unix()+1, 10))
		require.Error(t, verifyStandardWebhook(signingSecret, moved, retry.Body, clock.Now()), "the timestamp is signed")

		for _, e := range b.logs.AllEntries() {
			line, err := e.String()
			require.NoError(t, err)
			require.NotContains(t, line, strings.TrimPrefix(signingSecret, "whsec_"), "the secret reaches a log")
		}
	})
}

// TestUnsignedAlertWebhookWithoutSecret: without a secret the delivery
// carries its id and timestamp but no signature.
func TestUnsignedAlertWebhookWithoutSecret(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{noSlack: true, noPD: true})
		raise(t, store, models.KindStuckPayout, "p-unsigned", models.SeverityError)
		b.tick(t)
		req := b.hook.last(t)
		require.NotEmpty(t, req.Header.Get("webhook-id"))
		require.Equal(t, strconv.FormatInt(start.Unix(), 10), req.Header.Get("webhook-timestamp"))
		require.Empty(t, req.Header.Values("webhook-signature"))
		require.Error(t, verifyStandardWebhook(signingSecret, req.Header, req.Body, clock.Now()))
	})
}

// TestBadWebhookSecretIsRefusedWithoutQuotingIt: a secret that is not
// "whsec_" and base64 stops the dispatcher, and the error does not show it.
func TestBadWebhookSecretIsRefusedWithoutQuotingIt(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	for _, secret := range []string{"sk-not-a-whsec-secret", "whsec_***not*base64***"} {
		_, err := NewDispatcher(store, nil, nil, DispatcherConfig{WebhookURL: "https://hooks.example.com/alerts", WebhookSecret: secret})
		require.ErrorContains(t, err, "webhook secret")
		require.NotContains(t, err.Error(), secret)
		require.NotContains(t, err.Error(), strings.TrimPrefix(secret, "whsec_"))
	}
}
