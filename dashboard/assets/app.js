// payoutd dashboard: draws the overview charts from the JSON block that the
// server renders into the page (<script type="application/json"
// id="chart-data">), and makes the Copy buttons beside shortened values
// work. The page has no inline script; this file and the
// vendored Chart.js are the only scripts the Content-Security-Policy allows.
(function () {
  "use strict";

  var STATUS_COLORS = {
    completed: "#1b7a3d",
    pending: "#2f6fd0",
    in_review: "#7b4bc4",
    requested: "#8a97a8",
    unknown: "#d08a00",
    failed: "#c0392b"
  };
  // The severities' colours, as the badges have them (app.css).
  var SEVERITY_COLORS = {
    error: "#b42318",
    warning: "#d08a00",
    info: "#2f5f9e"
  };
  var WALLET_COLOR = "#1f3a5f";

  function readData() {
    var el = document.getElementById("chart-data");
    if (!el) {
      return null;
    }
    return JSON.parse(el.textContent);
  }

  function human(s) {
    return String(s).replace(/_/g, " ");
  }

  function moneyFormatter(currency) {
    var full = new Intl.NumberFormat("en-US", { style: "currency", currency: currency });
    var compact = new Intl.NumberFormat("en-US", {
      style: "currency", currency: currency, notation: "compact", maximumSignificantDigits: 3
    });
    // Amounts travel as integer cents; dividing is for display only.
    return {
      full: function (cents) { return full.format(cents / 100); },
      compact: function (cents) { return compact.format(cents / 100); }
    };
  }

  function volumeChart(canvas, data, money) {
    var volume = data.volume || { labels: [], series: [] };
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: volume.labels || [],
        datasets: (volume.series || []).map(function (s) {
          return {
            label: human(s.status),
            data: s.cents,
            backgroundColor: STATUS_COLORS[s.status] || "#8a97a8",
            stack: "volume"
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { callback: money.compact } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) { return ctx.dataset.label + ": " + money.full(ctx.parsed.y); }
            }
          }
        }
      }
    });
  }

  // One bar per kind, stacked by severity and coloured by it; a severity
  // with no open finding is left out of the legend.
  function findingsChart(canvas, data) {
    var findings = data.findings || { labels: [], series: [] };
    var series = (findings.series || []).filter(function (s) {
      return s.counts.some(function (n) { return n > 0; });
    });
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: (findings.labels || []).map(human),
        datasets: series.map(function (s) {
          return {
            label: s.severity,
            data: s.counts,
            backgroundColor: SEVERITY_COLORS[s.severity] || "#8a97a8",
            stack: "findings"
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: "y",
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: true }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function walletChart(canvas, data, money) {
    var wallet = data.wallet || { labels: [], cents: [] };
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: wallet.labels || [],
        datasets: [{
          label: "wallet balance",
          data: wallet.cents || [],
          borderColor: WALLET_COLOR,
          backgroundColor: "rgba(31, 58, 95, 0.12)",
          fill: true,
          pointRadius: 0,
          tension: 0.2
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
          y: { ticks: { callback: money.compact } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return money.full(ctx.parsed.y); } } }
        }
      }
    });
  }

  // Copy buttons put the whole of a shortened value on the clipboard. The
  // Clipboard API needs a secure context (https or localhost); elsewhere
  // the value is selected in a text field for the person to copy.
  function copyValue(button) {
    var value = button.getAttribute("data-copy");
    var done = function () {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(done, function () { selectValue(button, value); });
      return;
    }
    selectValue(button, value);
  }

  function selectValue(button, value) {
    var field = button.parentNode.querySelector("input.copy-field");
    if (!field) {
      field = document.createElement("input");
      field.className = "copy-field";
      field.readOnly = true;
      button.parentNode.insertBefore(field, button.nextSibling);
    }
    field.value = value;
    field.focus();
    field.select();
  }

  function initCopy() {
    document.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button.copy") : null;
      if (button) {
        e.preventDefault();
        copyValue(button);
      }
    });
  }

  function init() {
    initCopy();
    var data = readData();
    if (!data || typeof Chart === "undefined") {
      return;
    }
    var money = moneyFormatter(data.currency || "USD");
    var draw = [
      ["chart-volume", function (c) { return volumeChart(c, data, money); }],
      ["chart-findings", function (c) { return findingsChart(c, data); }],
      ["chart-wallet", function (c) { return walletChart(c, data, money); }]
    ];
    draw.forEach(function (d) {
      var canvas = document.getElementById(d[0]);
      if (canvas) {
        d[1](canvas);
      }
    });
    document.documentElement.setAttribute("data-charts", "ready");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
