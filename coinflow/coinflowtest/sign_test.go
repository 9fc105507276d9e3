package coinflowtest_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// TestSignMatchesVectors checks Sign against the shared, independently
// computed vectors: the valid ones reproduce exactly, the re-serialised
// bodies do not.
func TestSignMatchesVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../testdata/coinflow/fixtures/webhooks/signature-vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []struct {
			Name          string            `json:"name"`
			ValidationKey string            `json:"validationKey"`
			RawBody       string            `json:"rawBody"`
			Headers       map[string]string `json:"headers"`
			Expect        string            `json:"expect"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Vectors)
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			header := v.Headers["Coinflow-Signature"]
			ts, _, ok := strings.Cut(strings.TrimPrefix(header, "t="), ",")
			require.True(t, ok)
			unix, err := strconv.ParseInt(ts, 10, 64)
			require.NoError(t, err)
			got := coinflowtest.Sign(v.ValidationKey, time.Unix(unix, 0), []byte(v.RawBody))
			if strings.HasPrefix(v.Expect, "valid") || strings.Contains(v.Expect, "signature still valid") {
				require.Equal(t, header, got)
				verifySignature(t, v.ValidationKey, got, []byte(v.RawBody))
			} else {
				require.NotEqual(t, header, got)
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	t.Parallel()
	got := coinflowtest.Sign("k", time.Unix(1748893202, 999_000_000), []byte(`{}`))
	require.Regexp(t, `^t=1748893202,v1=[0-9a-f]{64}$`, got)
}
