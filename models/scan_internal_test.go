package models

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm/schema"
)

// TestPayoutColumnsAreTheModelsFields holds the hand-written scan to the
// model: a field added to Payout must be added to payoutColumns (and to the
// Scan in scanPayouts, which TestPayoutsMatchingLoadsEveryField checks).
func TestPayoutColumnsAreTheModelsFields(t *testing.T) {
	sch, err := schema.Parse(&Payout{}, &sync.Map{}, schema.NamingStrategy{})
	require.NoError(t, err)
	var fields []string
	for _, f := range sch.Fields {
		if f.DBName != "" {
			fields = append(fields, f.DBName)
		}
	}
	require.ElementsMatch(t, fields, payoutColumns)
}
