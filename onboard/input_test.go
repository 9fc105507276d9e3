package onboard_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/flowtest"
	"github.com/payoutd/payoutd/models"
)

// stored is a fingerprint of everything the onboarding and payout paths
// write: row counts and the newest update of each table.
func stored(t *testing.T, store *models.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for table, col := range map[string]string{
		"withdrawers": "updated_at", "withdrawer_history": "created_at", "destinations": "updated_at",
		"payouts": "updated_at", "payout_history": "created_at", "inbox_events": "id",
	} {
		var row struct {
			N    int64
			Last string
		}
		require.NoError(t, store.DB().Raw("SELECT COUNT(*) AS n, COALESCE(CAST(MAX("+col+") AS TEXT), '') AS last FROM "+table).Scan(&row).Error)
		out[table] = fmt.Sprintf("%d rows, last %s", row.N, row.Last)
	}
	return out
}

// TestBadInputChangesNothing: every refusal below names its reason,
// calls Coinflow not once and stores nothing.
func TestBadInputChangesNothing(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		bank := flowtest.Str(f.SaveBank("u-us"), "token")
		gone := flowtest.Str(f.Save("u-us", map[string]any{
			"type": "bank_account", "routing_number": "011000015", "account_number": "99887766", "account_type": "savings", "name": "Ada",
		}), "token")
		status, _ := f.Call(http.MethodDelete, "/api/v1/withdrawers/u-us/destinations/"+gone, nil)
		require.Equal(t, http.StatusNoContent, status)
		f.ApproveGerman("u-de", true)
		iban := flowtest.Str(f.Save("u-de", map[string]any{"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta"}), "token")
		f.Register(map[string]any{"user_id": "u-waiting", "email": "w@example.fr", "country": "FR"}, http.StatusAccepted)

		us := func(change func(map[string]any)) map[string]any {
			b := flowtest.USRegistration("u-new")
			change(b)
			return b
		}
		addr := func(k, v string) func(map[string]any) {
			return func(b map[string]any) { b["address"].(map[string]any)[k] = v }
		}
		set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
		del := func(k string) func(map[string]any) { return func(b map[string]any) { delete(b, k) } }
		pay := func(cents any, currency, speed, account string) map[string]any {
			return map[string]any{"user_id": "u-us", "amount": map[string]any{"cents": cents, "currency": currency}, "speed": speed, "account": account}
		}
		quote := func(user string, cents any, currency, account string) map[string]any {
			return map[string]any{"user_id": user, "amount": map[string]any{"cents": cents, "currency": currency}, "account": account}
		}
		const (
			withdrawers = "/api/v1/withdrawers"
			usDest      = "/api/v1/withdrawers/u-us/destinations"
			deDest      = "/api/v1/withdrawers/u-de/destinations"
		)
		for _, tc := range []struct {
			name         string
			method, path string
			body         any
			status       int
			code, field  string
		}{
			{"US registration without an SSN", "POST", withdrawers, us(del("ssn")), 422, "invalid_request", "ssn"},
			{"US SSN with letters", "POST", withdrawers, us(set("ssn", "12A-45-6789")), 422, "invalid_request", "ssn"},
			{"US SSN never issued", "POST", withdrawers, us(set("ssn", "000-12-3456")), 422, "invalid_request", "ssn"},
			{"date of birth in the future", "POST", withdrawers, us(set("dob", "2031-01-01")), 422, "invalid_request", "dob"},
			{"date of birth that is no date", "POST", withdrawers, us(set("dob", "1990-02-30")), 422, "invalid_request", "dob"},
			{"unknown country", "POST", withdrawers, us(set("country", "XX")), 422, "invalid_request", "country"},
			{"no country", "POST", withdrawers, map[string]any{"user_id": "u-new", "email": "a@example.com"}, 422, "invalid_request", "country"},
			{"bad email", "POST", withdrawers, map[string]any{"user_id": "u-new", "email": "not-an-email", "country": "DE"}, 422, "invalid_request", "email"},
			{"no user id", "POST", withdrawers, us(del("user_id")), 422, "invalid_request", "user_id"},
			{"user id with spaces", "POST", withdrawers, us(set("user_id", "u new")), 422, "invalid_request", "user_id"},
			{"US without address", "POST", withdrawers, us(del("address")), 422, "invalid_request", "address"},
			{"US state unknown", "POST", withdrawers, us(addr("state", "ZZ")), 422, "invalid_request", "address.state"},
			{"US zip malformed", "POST", withdrawers, us(addr("zip", "7870")), 422, "invalid_request", "address.zip"},
			{"SSN sent for a German", "POST", withdrawers, map[string]any{"user_id": "u-new", "email": "a@example.de", "country": "DE", "ssn": "123-45-6789"}, 422, "invalid_request", "ssn"},
			{"unknown field", "POST", withdrawers, us(set("social", "123456789")), 422, "invalid_request", "body"},
			{"already registered", "POST", withdrawers, flowtest.USRegistration("u-us"), 409, "already_registered", ""},
			{"raw card number as card_token", "POST", usDest, map[string]any{"type": "card", "card_token": "4242 4242 4242 4242", "exp_month": "09", "exp_year": "31"}, 422, "invalid_request", "card_token"},
			{"card expiry month 13", "POST", usDest, map[string]any{"type": "card", "card_token": "tok_1", "exp_month": "13", "exp_year": "31"}, 422, "invalid_request", "exp_month"},
			{"IBAN with a bad checksum", "POST", deDest, map[string]any{"type": "iban", "iban": "DE89370400440532013001", "bic": "COBADEFFXXX", "account_holder": "Greta"}, 422, "invalid_request", "iban"},
			{"malformed BIC", "POST", deDest, map[string]any{"type": "iban", "iban": "DE89370400440532013000", "bic": "COBA", "account_holder": "Greta"}, 422, "invalid_request", "bic"},
			{"empty PIX key", "POST", deDest, map[string]any{"type": "pix", "key": ""}, 422, "invalid_request", "key"},
			{"unknown destination type", "POST", usDest, map[string]any{"type": "crypto"}, 422, "invalid_request", "type"},
			{"routing number checksum", "POST", usDest, map[string]any{"type": "bank_account", "routing_number": "123456789", "account_number": "12345678", "account_type": "checking", "name": "A"}, 422, "invalid_request", "routing_number"},
			{"account number with letters", "POST", usDest, map[string]any{"type": "bank_account", "routing_number": "021000021", "account_number": "12AB5678", "account_type": "checking", "name": "A"}, 422, "invalid_request", "account_number"},
			{"account type business", "POST", usDest, map[string]any{"type": "bank_account", "routing_number": "021000021", "account_number": "12345678", "account_type": "business", "name": "A"}, 422, "invalid_request", "account_type"},
			{"another type's field", "POST", usDest, map[string]any{"type": "pix", "key": "k@example.com", "iban": "DE89370400440532013000"}, 422, "invalid_request", "iban"},
			{"destination for an unknown user", "POST", "/api/v1/withdrawers/u-nobody/destinations", map[string]any{"type": "pix", "key": "k"}, 404, "not_found", ""},
			{"destination before verification", "POST", "/api/v1/withdrawers/u-waiting/destinations", map[string]any{"type": "pix", "key": "k"}, 409, "verification_required", ""},
			{"zero quote", "POST", "/api/v1/quotes", quote("u-us", 0, "USD", bank), 422, "invalid_request", "amount.cents"},
			{"negative quote", "POST", "/api/v1/quotes", quote("u-us", -100, "USD", bank), 422, "invalid_request", "amount.cents"},
			{"fractional cents quote", "POST", "/api/v1/quotes", quote("u-us", 12.5, "USD", bank), 422, "invalid_request", "amount.cents"},
			{"quote in an unknown currency", "POST", "/api/v1/quotes", quote("u-us", 100, "XYZ", bank), 422, "invalid_request", "amount.currency"},
			{"quote in another currency than the destination", "POST", "/api/v1/quotes", quote("u-us", 100, "EUR", bank), 422, "currency_mismatch", ""},
			{"quote to a deleted destination", "POST", "/api/v1/quotes", quote("u-us", 100, "USD", gone), 422, "destination_deleted", ""},
			{"quote for a pending withdrawer", "POST", "/api/v1/quotes", quote("u-waiting", 100, "EUR", "iban_x"), 409, "verification_required", ""},
			{"payout currency differs from the destination", "POST", "/api/v1/payouts", pay(1000, "EUR", "asap", bank), 422, "currency_mismatch", ""},
			{"speed the destination does not offer", "POST", "/api/v1/payouts", pay(1000, "USD", "card", bank), 422, "speed_not_available", ""},
			{"IBAN speed to a US bank", "POST", "/api/v1/payouts", pay(1000, "USD", "iban", bank), 422, "speed_not_available", ""},
			{"payout to a deleted destination", "POST", "/api/v1/payouts", pay(1000, "USD", "asap", gone), 422, "destination_deleted", ""},
			{"EUR payout at a bank speed", "POST", "/api/v1/payouts", map[string]any{"user_id": "u-de", "amount": flowtest.Money(1000, "EUR"), "speed": "standard", "account": iban}, 422, "speed_not_available", ""},
			{"session key for an unknown user", "POST", "/api/v1/withdrawers/u-nobody/session-key", nil, 404, "not_found", ""},
			{"delete an unknown destination", "DELETE", "/api/v1/withdrawers/u-us/destinations/bnk_nope", nil, 404, "not_found", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				calls, before := f.CoinflowCalls(), stored(t, store)
				status, a := f.Call(tc.method, tc.path, tc.body)
				require.Equal(t, tc.status, status, "%v", a)
				require.Equal(t, tc.code, flowtest.ErrorCode(a))
				if tc.field != "" {
					fields, _ := a["error"].(map[string]any)["fields"].(map[string]any)
					require.Contains(t, fields, tc.field, "%v", a)
				}
				require.Equal(t, calls, f.CoinflowCalls(), "Coinflow was called")
				require.Equal(t, before, stored(t, store), "something was stored")
			})
		}
	})
}
