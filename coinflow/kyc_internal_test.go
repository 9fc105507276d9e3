package coinflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKycSSN pins the [ASSUMED] choice: the last 4 of the full 9 digits.
func TestKycSSN(t *testing.T) {
	for in, want := range map[string]string{"123456789": "6789", "123-45-6789": "6789", "123 45 0001": "0001"} {
		got, err := kycSSN(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "6789", "12345678", "1234567890", "12345678x", "１２３４５６７８９"} {
		_, err := kycSSN(in)
		require.Error(t, err, in)
		if in != "" {
			require.NotContains(t, err.Error(), in)
		}
	}
}
