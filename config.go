package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/scheduler"
)

// Secret is a configuration value that must never be printed: every fmt
// verb, JSON, YAML and text encodings give "[redacted]" (YAML gives "" for an
// unset secret, so that config check shows which are set). Value returns the
// secret.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// Format makes every verb print "[redacted]", %x and %d included.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// MarshalJSON keeps secrets out of any JSON dump of the config.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// MarshalText covers the encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML shows whether the secret is set, never what it is.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return redacted, nil
}

// Value is the secret itself.
func (s Secret) Value() string { return string(s) }

// Duration is a time.Duration written as "5m" in YAML and the environment.
type Duration time.Duration

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalYAML writes the duration as config.yaml does: 840h, 1h30m, 500ms.
func (d Duration) MarshalYAML() (any, error) {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s, nil
}

// Config is config.yaml. Every key can be overridden by an environment
// variable named PAYOUTD_ + the key's path in upper case with "_" for "."
// (database.url -> PAYOUTD_DATABASE_URL); the environment wins.
type Config struct {
	Listen string `yaml:"listen"`
	Log    struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	Database struct {
		URL          Secret `yaml:"url"`
		MaxOpenConns int    `yaml:"max_open_conns"`
	} `yaml:"database"`
	Coinflow struct {
		BaseURL            string   `yaml:"base_url"`
		APIKey             Secret   `yaml:"api_key"`
		WebhookKey         Secret   `yaml:"webhook_key"`
		WebhookPreviousKey Secret   `yaml:"webhook_previous_key"`
		SignatureTolerance Duration `yaml:"signature_tolerance"`
	} `yaml:"coinflow"`
	API struct {
		Token Secret `yaml:"token"`
		// Tokens are named bearer tokens beside Token: an acknowledgement
		// records the name of the token (or dashboard login) that made it.
		Tokens APITokens `yaml:"tokens"`
	} `yaml:"api"`
	// TrustedProxies are the addresses or CIDRs of the reverse proxies
	// whose X-Forwarded-For names the client (rate limits and logs); empty:
	// the connection's peer is the client.
	TrustedProxies StringList `yaml:"trusted_proxies"`
	Dashboard      struct {
		// SecureCookies: "auto" marks the session cookie Secure unless
		// payoutd listens on loopback only; "true" always (behind a TLS
		// terminator); "false" only when the request itself came over TLS.
		SecureCookies string `yaml:"secure_cookies"`
	} `yaml:"dashboard"`
	RateLimit struct {
		// LoginPerMinute is how many failed logins one client may make in a
		// minute before /login answers 429.
		LoginPerMinute int `yaml:"login_per_minute"`
		// APIPerSecond and APIBurst bound each client's /api/v1 requests; 0
		// turns the API limit off.
		APIPerSecond int `yaml:"api_per_second"`
		APIBurst     int `yaml:"api_burst"`
	} `yaml:"rate_limit"`
	Reconcile struct {
		Schedule             string   `yaml:"schedule"`
		Lookback             Duration `yaml:"lookback"`
		MissingGrace         Duration `yaml:"missing_grace"`
		PageSize             int      `yaml:"page_size"`
		Timeout              Duration `yaml:"timeout"`
		InstantWindow        Duration `yaml:"instant_window"`
		StandardBusinessDays int      `yaml:"standard_business_days"`
		OtherBusinessDays    int      `yaml:"other_business_days"`
		StuckGrace           Duration `yaml:"stuck_grace"`
	} `yaml:"reconcile"`
	KYC struct {
		StallAfter   Duration `yaml:"stall_after"`
		PollSchedule string   `yaml:"poll_schedule"`
		FirstCheck   Duration `yaml:"first_check"`
		MaxInterval  Duration `yaml:"max_interval"`
	} `yaml:"kyc"`
	Wallet struct {
		LowBalanceCents     int64 `yaml:"low_balance_cents"`
		DriftToleranceCents int64 `yaml:"drift_tolerance_cents"`
	} `yaml:"wallet"`
	Webhook struct {
		CommitWorkers  int      `yaml:"commit_workers"`
		CommitMaxBatch int      `yaml:"commit_max_batch"`
		AnswerTimeout  Duration `yaml:"answer_timeout"`
	} `yaml:"webhook"`
	Applier struct {
		Workers      int      `yaml:"workers"`
		PollInterval Duration `yaml:"poll_interval"`
		BatchSize    int      `yaml:"batch_size"`
		MaxAttempts  int      `yaml:"max_attempts"`
	} `yaml:"applier"`
	Inbox struct {
		RetainBodies Duration `yaml:"retain_bodies"`
	} `yaml:"inbox"`
	Alerts struct {
		SlackWebhookURL     Secret   `yaml:"slack_webhook_url"`
		WebhookURL          Secret   `yaml:"webhook_url"`
		PagerDutyRoutingKey Secret   `yaml:"pagerduty_routing_key"`
		PagerDutyURL        string   `yaml:"pagerduty_url"`
		RenotifyInterval    Duration `yaml:"renotify_interval"`
		SummaryThreshold    int      `yaml:"summary_threshold"`
		NotifyResolved      bool     `yaml:"notify_resolved"`
		DispatchInterval    Duration `yaml:"dispatch_interval"`
		DashboardURL        string   `yaml:"dashboard_url"`
		// WebhookSecret signs alerts.webhook_url's deliveries with the
		// Standard Webhooks scheme: "whsec_" and the base64 of the key.
		WebhookSecret Secret `yaml:"webhook_secret"`
	} `yaml:"alerts"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// defaultConfig holds SPEC's defaults; config.yaml and the environment
// override them.
func defaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:8080"
	c.Log.Level = "info"
	c.Log.Format = "auto"
	c.Database.MaxOpenConns = 16
	c.Coinflow.BaseURL = "https://api-sandbox.coinflow.cash/api"
	c.Coinflow.SignatureTolerance = Duration(5 * time.Minute)
	c.Reconcile.Schedule = "@every 5m"
	c.Reconcile.Lookback = Duration(35 * 24 * time.Hour)
	c.Reconcile.MissingGrace = Duration(30 * time.Minute)
	c.Reconcile.PageSize = 100
	c.Reconcile.Timeout = Duration(10 * time.Minute)
	c.Reconcile.InstantWindow = Duration(rail.DefaultInstantWindow)
	c.Reconcile.StandardBusinessDays = rail.DefaultStandardBusinessDays
	c.Reconcile.OtherBusinessDays = rail.DefaultOtherBusinessDays
	c.Reconcile.StuckGrace = Duration(15 * time.Minute)
	c.KYC.StallAfter = Duration(72 * time.Hour)
	c.KYC.PollSchedule = "@every 1m"
	c.KYC.FirstCheck = Duration(time.Minute)
	c.KYC.MaxInterval = Duration(time.Hour)
	c.Webhook.CommitWorkers = 0 // by the database: see webhook.NewPipeline
	c.Webhook.CommitMaxBatch = 256
	c.Webhook.AnswerTimeout = Duration(4 * time.Second)
	c.Applier.PollInterval = Duration(500 * time.Millisecond)
	c.Applier.BatchSize = 100
	c.Applier.MaxAttempts = 8
	c.Inbox.RetainBodies = Duration(400 * 24 * time.Hour)
	c.Alerts.PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
	c.Alerts.RenotifyInterval = Duration(24 * time.Hour)
	c.Alerts.SummaryThreshold = 10
	c.Alerts.NotifyResolved = true
	c.Alerts.DispatchInterval = Duration(10 * time.Second)
	c.API.Tokens = APITokens{}
	c.TrustedProxies = StringList{}
	c.Dashboard.SecureCookies = "auto"
	c.RateLimit.LoginPerMinute = 10
	c.RateLimit.APIPerSecond = 50
	c.RateLimit.APIBurst = 100
	c.ShutdownTimeout = Duration(20 * time.Second)
	return c
}

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error { return errors.Join(c.problems()...) }

// problems are Validate's errors, each a *configError naming its key (the
// loader adds where the value came from).
func (c Config) problems() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &configError{key: key, msg: fmt.Sprintf(format, args...)})
	}
	positive := func(key string, d Duration) {
		if d.D() <= 0 {
			bad(key, "must be positive")
		}
	}
	atLeast := func(key string, n, least int64, note string) {
		if n < least {
			bad(key, "must be at least %d%s", least, note)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not host:port", c.Listen)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "json", "text":
	default:
		bad("log.format", "%q is not auto, json or text", c.Log.Format)
	}
	if u := c.Database.URL.Value(); u != "" && !strings.HasPrefix(u, "postgres://") &&
		!strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "sqlite:") {
		bad("database.url", "must be empty (embedded SQLite), sqlite:PATH or a postgres:// URL")
	}
	atLeast("database.max_open_conns", int64(c.Database.MaxOpenConns), 1, "")
	if k := c.Coinflow.WebhookPreviousKey; k != "" && k == c.Coinflow.WebhookKey {
		bad("coinflow.webhook_previous_key", "equals coinflow.webhook_key: set it to the key being retired, or leave it empty")
	}
	if !strings.HasPrefix(c.Coinflow.BaseURL, "http://") && !strings.HasPrefix(c.Coinflow.BaseURL, "https://") {
		bad("coinflow.base_url", "%q is not an http(s) URL", c.Coinflow.BaseURL)
	}
	positive("coinflow.signature_tolerance", c.Coinflow.SignatureTolerance)
	if _, err := scheduler.Parse(c.Reconcile.Schedule); err != nil {
		bad("reconcile.schedule", "%v", err)
	}
	r := c.Reconcile
	positive("reconcile.lookback", r.Lookback)
	positive("reconcile.missing_grace", r.MissingGrace)
	positive("reconcile.timeout", r.Timeout)
	positive("reconcile.instant_window", r.InstantWindow)
	if r.StuckGrace.D() < 0 {
		bad("reconcile.stuck_grace", "must not be negative")
	}
	atLeast("reconcile.page_size", int64(r.PageSize), 1, "")
	atLeast("reconcile.standard_business_days", int64(r.StandardBusinessDays), 1, "")
	atLeast("reconcile.other_business_days", int64(r.OtherBusinessDays), 1, "")
	if _, err := scheduler.Parse(c.KYC.PollSchedule); err != nil {
		bad("kyc.poll_schedule", "%v", err)
	}
	positive("kyc.stall_after", c.KYC.StallAfter)
	positive("kyc.first_check", c.KYC.FirstCheck)
	if c.KYC.MaxInterval.D() < c.KYC.FirstCheck.D() {
		bad("kyc.max_interval", "must be at least kyc.first_check")
	}
	atLeast("wallet.low_balance_cents", c.Wallet.LowBalanceCents, 0, "")
	atLeast("wallet.drift_tolerance_cents", c.Wallet.DriftToleranceCents, 0, "")
	atLeast("webhook.commit_workers", int64(c.Webhook.CommitWorkers), 0, " (0: by the database)")
	atLeast("webhook.commit_max_batch", int64(c.Webhook.CommitMaxBatch), 1, "")
	if a := c.Webhook.AnswerTimeout.D(); a <= 0 || a >= 5*time.Second {
		bad("webhook.answer_timeout", "must be positive and under Coinflow's 5s deadline")
	}
	positive("applier.poll_interval", c.Applier.PollInterval)
	atLeast("applier.batch_size", int64(c.Applier.BatchSize), 1, "")
	atLeast("applier.max_attempts", int64(c.Applier.MaxAttempts), 1, "")
	atLeast("applier.workers", int64(c.Applier.Workers), 0, " (0: by the database)")
	if c.Inbox.RetainBodies.D() < 0 {
		bad("inbox.retain_bodies", "must not be negative (0 keeps every body)")
	}
	// Alert URLs are secrets: a problem with one is named, never quoted.
	httpURL := func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	}
	al := c.Alerts
	if v := al.SlackWebhookURL.Value(); v != "" && !httpURL(v) {
		bad("alerts.slack_webhook_url", "is not an http(s) URL")
	}
	if v := al.WebhookURL.Value(); v != "" && !httpURL(v) {
		bad("alerts.webhook_url", "is not an http(s) URL")
	}
	if al.PagerDutyRoutingKey != "" && !httpURL(al.PagerDutyURL) {
		bad("alerts.pagerduty_url", "%q is not an http(s) URL", al.PagerDutyURL)
	}
	if al.DashboardURL != "" && !httpURL(al.DashboardURL) {
		bad("alerts.dashboard_url", "%q is not an http(s) URL", al.DashboardURL)
	}
	positive("alerts.renotify_interval", al.RenotifyInterval)
	positive("alerts.dispatch_interval", al.DispatchInterval)
	atLeast("alerts.summary_threshold", int64(al.SummaryThreshold), 1, "")
	positive("shutdown_timeout", c.ShutdownTimeout)
	errs = append(errs, c.API.Tokens.validate(c.API.Token)...)
	for i, p := range c.TrustedProxies {
		key := fmt.Sprintf("trusted_proxies[%d]", i)
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		switch a, err := netip.ParseAddr(p); {
		case err != nil:
			bad(key, "%q is not an IP address or CIDR", p)
		case a.Zone() != "":
			// gin's proxy list (net.ParseIP) takes no zone.
			bad(key, "%q has a zone: give the address without %%zone", p)
		}
	}
	switch c.Dashboard.SecureCookies {
	case "auto", "true", "false":
	default:
		bad("dashboard.secure_cookies", "%q is not auto, true or false", c.Dashboard.SecureCookies)
	}
	atLeast("rate_limit.login_per_minute", int64(c.RateLimit.LoginPerMinute), 1, "")
	atLeast("rate_limit.api_per_second", int64(c.RateLimit.APIPerSecond), 0, " (0: no limit)")
	if c.RateLimit.APIPerSecond > 0 {
		atLeast("rate_limit.api_burst", int64(c.RateLimit.APIBurst), 1, " while rate_limit.api_per_second is set")
	}
	if k := c.Alerts.WebhookSecret.Value(); k != "" {
		if err := checkWebhookSecret(k); err != nil {
			bad("alerts.webhook_secret", "%v", err)
		}
	}
	return errs
}
