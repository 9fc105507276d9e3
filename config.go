package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/scheduler"
)

// Secret is a configuration value that must never be printed: String,
// GoString and MarshalJSON all give "[redacted]". Value returns the secret.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// MarshalJSON keeps secrets out of any JSON dump of the config.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// Value is the secret itself.
func (s Secret) Value() string { return string(s) }

// Duration is a time.Duration written as "5m" in YAML and the environment.
type Duration time.Duration

// UnmarshalYAML reads "90s", "5m" and the like.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 5m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

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

// loadConfig reads path (a missing file is an error only when required),
// then applies the environment, then validates.
func loadConfig(path string, required bool, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !required:
	case err != nil:
		return cfg, fmt.Errorf("read config: %w", err)
	default:
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "PAYOUTD", getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

var durationType = reflect.TypeFor[Duration]()

// applyEnv walks the config struct and overrides each leaf from its
// environment variable.
func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	var errs []error
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			errs = append(errs, applyEnv(fv, name, getenv))
			continue
		}
		raw := getenv(name)
		if raw == "" {
			continue
		}
		if ev, ok := fv.Addr().Interface().(envValue); ok {
			if err := ev.setEnv(raw); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			continue
		}
		switch {
		case fv.Type() == durationType:
			d, err := time.ParseDuration(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration like 30s or 5m", name, raw))
				continue
			}
			fv.SetInt(int64(d))
		case fv.Kind() == reflect.String:
			fv.SetString(raw)
		case fv.Kind() == reflect.Int, fv.Kind() == reflect.Int64:
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, raw))
				continue
			}
			fv.SetInt(n)
		case fv.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, raw))
				continue
			}
			fv.SetBool(b)
		default:
			errs = append(errs, fmt.Errorf("%s: unsupported type %s", name, fv.Type()))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
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
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns", "must be at least 1")
	}
	if k := c.Coinflow.WebhookPreviousKey; k != "" && k == c.Coinflow.WebhookKey {
		bad("coinflow.webhook_previous_key", "equals coinflow.webhook_key: set it to the key being retired, or leave it empty")
	}
	if !strings.HasPrefix(c.Coinflow.BaseURL, "http://") && !strings.HasPrefix(c.Coinflow.BaseURL, "https://") {
		bad("coinflow.base_url", "%q is not an http(s) URL", c.Coinflow.BaseURL)
	}
	if c.Coinflow.SignatureTolerance.D() <= 0 {
		bad("coinflow.signature_tolerance", "must be positive")
	}
	if _, err := scheduler.Parse(c.Reconcile.Schedule); err != nil {
		bad("reconcile.schedule", "%v", err)
	}
	r := c.Reconcile
	if r.Lookback.D() <= 0 || r.MissingGrace.D() <= 0 || r.Timeout.D() <= 0 || r.InstantWindow.D() <= 0 || r.StuckGrace.D() < 0 {
		bad("reconcile", "lookback, missing_grace, timeout and instant_window must be positive, stuck_grace not negative")
	}
	if r.PageSize < 1 || r.StandardBusinessDays < 1 || r.OtherBusinessDays < 1 {
		bad("reconcile", "page_size, standard_business_days and other_business_days must be at least 1")
	}
	if _, err := scheduler.Parse(c.KYC.PollSchedule); err != nil {
		bad("kyc.poll_schedule", "%v", err)
	}
	if c.KYC.StallAfter.D() <= 0 || c.KYC.FirstCheck.D() <= 0 || c.KYC.MaxInterval.D() < c.KYC.FirstCheck.D() {
		bad("kyc", "stall_after and first_check must be positive, max_interval at least first_check")
	}
	if c.Wallet.LowBalanceCents < 0 || c.Wallet.DriftToleranceCents < 0 {
		bad("wallet", "low_balance_cents and drift_tolerance_cents must not be negative")
	}
	if c.Webhook.CommitWorkers < 0 || c.Webhook.CommitMaxBatch < 1 {
		bad("webhook", "commit_workers must not be negative (0: by the database) and commit_max_batch must be at least 1")
	}
	if a := c.Webhook.AnswerTimeout.D(); a <= 0 || a >= 5*time.Second {
		bad("webhook.answer_timeout", "must be positive and under Coinflow's 5s deadline")
	}
	if c.Applier.PollInterval.D() <= 0 || c.Applier.BatchSize < 1 || c.Applier.MaxAttempts < 1 || c.Applier.Workers < 0 {
		bad("applier", "poll_interval, batch_size and max_attempts must be positive, workers not negative (0: by the database)")
	}
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
	if al.RenotifyInterval.D() <= 0 || al.DispatchInterval.D() <= 0 {
		bad("alerts", "renotify_interval and dispatch_interval must be positive")
	}
	if al.SummaryThreshold < 1 {
		bad("alerts.summary_threshold", "must be at least 1")
	}
	if c.ShutdownTimeout.D() <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	errs = append(errs, c.API.Tokens.validate(c.API.Token)...)
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("trusted_proxies", "%q is not an IP address or CIDR", p)
			}
		}
	}
	switch c.Dashboard.SecureCookies {
	case "auto", "true", "false":
	default:
		bad("dashboard.secure_cookies", "%q is not auto, true or false", c.Dashboard.SecureCookies)
	}
	if c.RateLimit.LoginPerMinute < 1 {
		bad("rate_limit.login_per_minute", "must be at least 1")
	}
	if c.RateLimit.APIPerSecond < 0 || (c.RateLimit.APIPerSecond > 0 && c.RateLimit.APIBurst < 1) {
		bad("rate_limit", "api_per_second must not be negative (0: no limit), api_burst at least 1 when it is set")
	}
	if k := c.Alerts.WebhookSecret.Value(); k != "" {
		if err := checkWebhookSecret(k); err != nil {
			bad("alerts.webhook_secret", "%v", err)
		}
	}
	return errors.Join(errs...)
}
