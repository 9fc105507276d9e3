// Code generated from the Currency enum of Coinflow's openapi-payouts.json; DO NOT EDIT.

package models

// currencies is the set of ISO 4217 codes Coinflow's Currency enum accepts.
var currencies = map[string]struct{}{
	"USD": {}, "AED": {}, "AFN": {}, "ALL": {}, "AMD": {}, "ANG": {}, "AOA": {}, "ARS": {}, "AUD": {},
	"AWG": {}, "AZN": {}, "BAM": {}, "BBD": {}, "BDT": {}, "BGN": {}, "BHD": {}, "BIF": {}, "BMD": {},
	"BND": {}, "BOB": {}, "BRL": {}, "BSD": {}, "BTN": {}, "BWP": {}, "BYN": {}, "BZD": {}, "CAD": {},
	"CHF": {}, "CLF": {}, "CLP": {}, "CNY": {}, "COP": {}, "CRC": {}, "CUP": {}, "CVE": {}, "CZK": {},
	"DJF": {}, "DKK": {}, "DOP": {}, "DZD": {}, "EGP": {}, "ETB": {}, "EUR": {}, "FJD": {}, "GBP": {},
	"GEL": {}, "GHS": {}, "GMD": {}, "GNF": {}, "GTQ": {}, "GYD": {}, "HKD": {}, "HNL": {}, "HTG": {},
	"HUF": {}, "IDR": {}, "ILS": {}, "INR": {}, "IQD": {}, "IRR": {}, "ISK": {}, "JMD": {}, "JOD": {},
	"JPY": {}, "KES": {}, "KGS": {}, "KHR": {}, "KMF": {}, "KRW": {}, "KWD": {}, "KYD": {}, "KZT": {},
	"LAK": {}, "LBP": {}, "LKR": {}, "LRD": {}, "LSL": {}, "LYD": {}, "MAD": {}, "MDL": {}, "MGA": {},
	"MKD": {}, "MMK": {}, "MNT": {}, "MOP": {}, "MRU": {}, "MUR": {}, "MWK": {}, "MVR": {}, "MXN": {},
	"MYR": {}, "MZN": {}, "NAD": {}, "NGN": {}, "NIO": {}, "NOK": {}, "NPR": {}, "NZD": {}, "OMR": {},
	"PAB": {}, "PEN": {}, "PGK": {}, "PHP": {}, "PKR": {}, "PLN": {}, "PYG": {}, "QAR": {}, "RON": {},
	"RSD": {}, "RWF": {}, "SAR": {}, "SCR": {}, "SDG": {}, "SEK": {}, "SGD": {}, "SLE": {}, "SLL": {},
	"SOS": {}, "SRD": {}, "STN": {}, "SVC": {}, "SYP": {}, "SZL": {}, "THB": {}, "TJS": {}, "TMT": {},
	"TND": {}, "TOP": {}, "TRY": {}, "TTD": {}, "TWD": {}, "TZS": {}, "UAH": {}, "UGX": {}, "UYU": {},
	"UZS": {}, "VND": {}, "VUV": {}, "WST": {}, "XAF": {}, "XCD": {}, "XOF": {}, "XPF": {}, "YER": {},
	"ZAR": {}, "ZMW": {}, "ZWL": {}, "CDF": {}, "ERN": {}, "FKP": {}, "KPW": {}, "RUB": {}, "SBD": {},
	"SHP": {}, "SSP": {}, "VES": {},
}
