package principal_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/principal"
)

func TestNameIsWhatSetRecorded(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	require.Empty(t, principal.Name(c), "nobody before authentication")
	principal.Set(c, "alice")
	require.Equal(t, "alice", principal.Name(c))
}
