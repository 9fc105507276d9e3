// Package coinflowtest is an in-memory, local stand-in for Coinflow's
// merchant payout API and its webhook delivery, for tests (like
// net/http/httptest) and for payoutd sim. It imports no testing package.
//
//	srv := coinflowtest.NewServer(coinflowtest.Options{
//		WebhookURL: daemonURL + "/webhooks/coinflow",
//		WebhookKey: "whk", InitialBalanceCents: 1_000_000,
//	})
//	defer srv.Close()
//	srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1", BankToken: "bnk_1"})
//	// ... the client under test calls srv.URL + "/merchant/withdraws/payout/delegated" ...
//	srv.Advance(7 * time.Hour) // same_day payouts complete, Withdraw Success queued
//	srv.WaitWebhooks(ctx)
//
// It serves the 22 operations of testdata/coinflow/openapi-payouts.json
// (README's 17, the four destination deletes and GET /auth/session-key) at
// their documented paths relative to the base URL (a leading /api is also
// accepted), with bodies that validate against the spec's schemas and follow
// the fixtures' shapes, a JSON control surface under /_sim/ (see
// control.go) and a hosted verification page under /_sim/kyc/ (see
// hostedkyc.go). Its wire types are its own reading of the docs, independent
// of package coinflow, so that tests compare two readings.
//
// # Clock and lifecycle
//
// The emulator clock starts at Options.Start (default 2025-06-02T14:00Z)
// and moves only through Advance and SetNow. A payout is pending from its
// creation until createdAt + Options.Lifecycle[effective speed], its
// expectedDeliveryDate; the Advance that passes it completes it (Withdraw
// Success, created at the due time). Stuck, SetInReview, Fail,
// FailAfterSuccess, ReturnComplete, MarkUnclaimed (Withdraw Unclaimed; it
// then waits to be claimed) and MarkOnHold (Withdraw On Hold; in_review)
// script the other paths. Webhook retry timing alone runs on real time,
// scaled by Options.WebhookRetry.
//
// # Money
//
// The wallet holds USD cents. A payout's amount is in its destination's
// currency (USD for bank accounts and cards, EUR or GBP for IBANs, BRL for
// PIX; a missing amount.currency means that one). One pricing rule
// (priceLocked, [ASSUMED]) serves quote, payout and CreateWithdraw: the
// amount converted to USD cents at Options.ExchangeRates, rounded half
// away from zero, plus the merchant fee of the effective speed in USD
// (Options.Fees) is the totalMerchantDebit the quote shows and the payout
// debits; 402 {"msg":"Insufficient funds"}, creating nothing, when the
// balance is short. Withdraws and Withdraw webhooks show the amount (total)
// in the payout currency, fees in USD, and usdToForeignExchangeRate as the
// exact decimal. Fail credits the debit back at once and leaves
// returnStatus return_completed (as the fixture's failed card payout
// shows); FailAfterSuccess leaves pending_return and credits nothing until
// ReturnComplete. So: a failed withdraw has been refunded exactly when its
// returnStatus is return_completed.
//
// # Choices where the docs are silent ([ASSUMED])
//
//   - Auth: /merchant/*, /withdraw* and /_sim/* need Authorization equal to
//     Options.APIKey, else 401 {"msg"}; /withdraw* also need
//     x-coinflow-auth-user-id (or x-coinflow-auth-wallet "<merchantId>ʬ<userId>").
//   - GET /merchant/withdraws: pages are 1-based (page 0 is a 400), limit
//     defaults to 50 and is clamped to Options.PageLimitMax (100) without
//     error, so a client asking for more must not read a short page as the
//     last one. Order is createdAt ascending (sortDirection 1, the default;
//     -1 descending; ties in creation order), which keeps paging stable
//     while payouts are added. since and until are ISO-8601 (or epoch ms),
//     both inclusive, on createdAt. status takes the four
//     WithdrawStatusWithReview values, speed matches the effective speed,
//     search matches transaction, transferId, idempotencyKey, userId and
//     accountId.
//   - GET /merchant/withdraws/{id}: a withdraw in review is shown as
//     "pending" (IWithdraw.status has no in_review; payoutInitiated is false
//     then). Synthetic withdraws (SeedSynthetic) are list-only.
//   - Delegated payout checks, in order: body (400 {"msg"}: missing field,
//     unknown speed, cents not a positive JSON integer, currency not an
//     ISO 4217 code), idempotency replay, withdrawer exists (404), not
//     blocked (403 {"msg":"User is blocked"}, the docs' message: blocking
//     is not a verification matter, so no verificationLink;
//     Options.BlockedStatus can choose 451 instead), verification approved (451
//     {verificationLink, message}), account is a live saved destination of
//     the withdrawer that takes the speed and is paid in amount.currency
//     (400), funds (402).
//   - Idempotency: a repeated idempotencyKey answers the first request's 200
//     body byte for byte and creates nothing, whatever the new body says;
//     concurrent identical requests are serialised. Refused requests are not
//     remembered.
//   - Speeds: same_day above 100000000 USD cents goes out as standard (NACHA);
//     SetDowngrade programs other downgrades. The fee is the effective
//     speed's, in the quote's totals too. Rails without a fee configured are
//     quoted "Unavailable" with limit 0 but not refused; limits are not
//     enforced. iban (fee 100 USD cents, limit 5000000) and pix (50,
//     1000000) are rails by default; their fees and limits are invented.
//   - Webhooks: Version 2 envelopes, "created" from the emulator clock;
//     Withdraw data has wallet = the merchant's settlement wallet
//     (blockchain solana), total = amount; KYC data has blockchain "user".
//     Each attempt is POSTed with Authorization = WebhookKey and a fresh
//     Coinflow-Signature (real send time by default), and is retried until
//     the receiver answers exactly 200. First attempts go out one at a time
//     in event order; retries run on their own and can overtake. An attempt
//     without an HTTP answer is logged with responseCode 0.
//     GET /merchant/webhooks lists attempts oldest first with data = the
//     inner data, transactionId matching data.signature. A dropped event
//     (WebhookFaults) is never sent and never logged. No webhook exists for
//     in_review, a completed return, or blocking. Withdraw Unclaimed and
//     Withdraw On Hold (in the docs for PayPal/Venmo, not in the spec's
//     enum) carry the same data as the other Withdraw events and are sent
//     only when scripted (MarkUnclaimed, MarkOnHold, or the /_sim actions
//     unclaimed and on-hold), on any pending payout.
//   - Destinations: each kind takes its own speeds: a bank account asap,
//     same_day and standard; a card card (none when Ineligible); an IBAN
//     iban; a PIX key pix. A quote or payout at another speed, or to a
//     deleted destination, is a 400 {"msg"}. DELETE
//     /withdraw/{account,card,iban,pix}/{token} marks the destination
//     isDeleted (GET /withdraw keeps listing it; IBAN and PIX rows, whose
//     schemas lack the member, show it only when true); deleting it again
//     answers 200; a token that is not the user's destination of that
//     kind is a 404.
//   - Saving destinations: bodies are checked first (400 {"msg"}), then
//     the withdrawer (404, 451), then the spec's own refusals. A debit
//     card needs expMonth 01-12 and a 2-digit expYear, refuses a raw PAN
//     (12-19 digits) as cardToken, is USD and "Immediate" (a cardToken
//     starting with IneligibleCardPrefix makes it "Ineligible"), and
//     answers 412 when no address is on file and the body has none; a
//     body address goes on file. Withdrawers registered with a US info
//     body (and US ones from AddWithdrawer, unless NoAddress) have an
//     address; document-verified ones do not. POST /withdraw/iban takes an
//     IBAN (registry length and mod-97 checked; 426 with the JSON string
//     "BIC required" when bic is missing) or a UK 8-digit account number
//     with a 6-digit sortCode (no BIC needed); a GB IBAN or UK account is
//     paid in GBP, any other IBAN in EUR. A PIX key is paid in BRL, a bank
//     account in USD.
//   - KYC: a US info body needs every field, ssn exactly 4 digits (the
//     spec's "4 Digit SSN": the last 4), dob a real YYYYMMDD date not after
//     today (emulator clock) and an ISO 3166-1 alpha-2 country (either
//     case); a document body needs email and such a country; else 400
//     naming the field. A US info body passes at once (200, KYC Created
//     then KYC Success) unless its ssn is FailingSSN; other bodies answer
//     451 pending (KYC Created). Registering again: approved -> 409
//     {"msg":"Withdrawer already exists for this wallet and merchant"};
//     pending -> the same 451 and link, no event; rejected or expired -> a
//     new attempt. currency and originalCurrency come from the country
//     (US USD, eurozone EUR, GB GBP, BR BRL, CA CAD, others USD).
//     Withdrawers made by KYC start without destinations; AddWithdrawer
//     gives a bank account and a card unless tokens are named.
//   - Hosted verification: when the emulator knows its URL (NewServer,
//     Options.BaseURL), the verificationLink of a withdrawer in document
//     verification (non-US, or a US instant check that failed) is
//     {base}/_sim/kyc/{reference} (plus redirect-uri), which serves an HTML
//     page without the API key (any reference works there, Persona ones
//     too; a US withdrawer seeded pending keeps its Persona link);
//     POSTing result=approved|rejected there (form or JSON) completes the
//     verification with KYC Success or KYC Failure, as does
//     CompleteVerification. A form POST with a redirect-uri is answered 303
//     to it. Without a URL, links keep the vendors' hosts.
//   - Session keys: GET /auth/session-key answers a JWT-shaped key
//     (base64url header, claims {sub: userId, merchantId, iat, exp, jti},
//     HMAC-SHA256 signature) for any known withdrawer, 404 otherwise;
//     SessionKeyValid tells whether a key was issued and is within its 24
//     hours on the emulator clock. No route accepts it as a credential.
//   - Scale: AddWithdrawers adds a population (say 100,000) in one pass
//     without webhooks; GET /merchant/withdrawers encodes its array element
//     by element into the route's answer buffer.
//   - Rate limits (Options.EnforceRateLimits, off by default): one window
//     per limit for the whole merchant (the API key), not per user. KYC
//     calls are POST /withdraw/kyc (counted before it runs; a throttled
//     one has no effect) and GET /withdraw answered 451; at most 3 in any
//     60 s. At most 10 answers 404, from any operation, in any 10 s. A
//     throttled call gets 429 {"msg":"Too many requests"} with Retry-After
//     = whole seconds until the oldest counted call leaves the window
//     (throttled calls do not fill it). RateLimitStats and /_sim/state
//     count calls and the most per window, enforced or not.
package coinflowtest
