package reqlog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/reqlog"
)

func TestAccept(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		id   string
		want bool
	}{
		"uuid":            {"0190b7a2-6c1e-7d3f-9a4b-2f6e8c1d0a5b", true},
		"printable ascii": {"a b~!/:=", true},
		"128 bytes":       {strings.Repeat("x", 128), true},
		"empty":           {"", false},
		"129 bytes":       {strings.Repeat("x", 129), false},
		"newline":         {"a\nlevel=error msg=forged", false},
		"carriage return": {"a\rb", false},
		"tab":             {"a\tb", false},
		"nul":             {"a\x00b", false},
		"del":             {"a\x7fb", false},
		"non-ascii":       {"ïd", false},
		"invalid utf-8":   {"a\xffb", false},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, reqlog.Accept(tc.id))
		})
	}
}

func TestNewIsHexAndFresh(t *testing.T) {
	t.Parallel()
	a, b := reqlog.New(), reqlog.New()
	require.Regexp(t, `^[0-9a-f]{32}$`, a)
	require.NotEqual(t, a, b)
	require.True(t, reqlog.Accept(a), "an id payoutd makes is one it would keep")
}

// TestEntryKeepsTheFallbacksLoggerAndFields: a service's own logger and
// component stay; only the request's id is added, and outside a request
// the fallback is returned as is.
func TestEntryKeepsTheFallbacksLoggerAndFields(t *testing.T) {
	t.Parallel()
	svcLogger, svcLogs := logtest.NewNullLogger()
	svc := svcLogger.WithField("component", "initiate")

	require.Same(t, svc, reqlog.Entry(context.Background(), svc))
	require.Empty(t, reqlog.ID(context.Background()))

	ctx := reqlog.With(context.Background(), "r-1")
	require.Equal(t, "r-1", reqlog.ID(ctx))
	reqlog.Entry(ctx, svc).Info("payout recorded")
	e := svcLogs.LastEntry()
	require.NotNil(t, e)
	require.Equal(t, logrus.Fields{"component": "initiate", reqlog.Field: "r-1"}, e.Data)
}
