// Charts for the Insights pages, drawn with the vendored Chart.js from specs the server
// writes with json_script. Every chart has its data in a table next to it; without
// JavaScript (or without Chart.js) the canvas stays hidden and the table is the chart.
(function () {
  "use strict";
  if (!window.Chart) return;
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => (css.getPropertyValue(name) || fallback).trim();
  const BRAND = colour("--brand", "#1d4ed8");
  const WARN = colour("--warn", "#92400e");
  const BAD = colour("--bad", "#b91c1c");
  const BAND = "rgba(29, 78, 216, 0.15)";
  const MUTED = colour("--muted", "#4b5563");

  function fmt(value, unit) {
    return value === null || value === undefined ? "—" : `${value}${unit}`;
  }

  function describe(point, spec) {
    const lines = [`${spec.label}: ${fmt(point.y, spec.unit)}`];
    if (point.low !== null && point.high !== null) {
      lines.push(`95% interval ${fmt(point.low, spec.unit)} … ${fmt(point.high, spec.unit)}`);
    }
    if (point.n !== null && point.n !== undefined) {
      lines.push(`n = ${point.n}${point.thin ? " · thin sample (n < 30)" : ""}`);
    }
    if (point.href) lines.push("Click to see the rows behind it");
    return lines;
  }

  function openPoint(spec) {
    return (event, elements, chart) => {
      const hit = chart.getElementsAtEventForMode(event, "index", { intersect: false }, false);
      if (!hit.length) return;
      const point = spec.points[hit[0].index];
      if (point && point.href) window.location.href = point.href;
    };
  }

  function hoverCursor(spec) {
    return (event, elements) => {
      const target = event.native && event.native.target;
      if (!target) return;
      const point = elements.length ? spec.points[elements[0].index] : null;
      target.style.cursor = point && point.href ? "pointer" : "default";
    };
  }

  // Draws each point's interval as a whisker on bar charts.
  const whiskers = {
    id: "whiskers",
    afterDatasetsDraw(chart, _args, options) {
      const spec = options.spec;
      if (!spec) return;
      const meta = chart.getDatasetMeta(0);
      const ctx = chart.ctx;
      const horizontal = spec.horizontal;
      const valueScale = horizontal ? chart.scales.x : chart.scales.y;
      ctx.save();
      ctx.strokeStyle = "#111827";
      ctx.lineWidth = 1.5;
      spec.points.forEach((point, index) => {
        const bar = meta.data[index];
        if (!bar || point.low === null || point.high === null) return;
        const a = valueScale.getPixelForValue(point.low);
        const b = valueScale.getPixelForValue(point.high);
        const centre = horizontal ? bar.y : bar.x;
        ctx.beginPath();
        if (horizontal) {
          ctx.moveTo(a, centre); ctx.lineTo(b, centre);
          ctx.moveTo(a, centre - 4); ctx.lineTo(a, centre + 4);
          ctx.moveTo(b, centre - 4); ctx.lineTo(b, centre + 4);
        } else {
          ctx.moveTo(centre, a); ctx.lineTo(centre, b);
          ctx.moveTo(centre - 4, a); ctx.lineTo(centre + 4, a);
          ctx.moveTo(centre - 4, b); ctx.lineTo(centre + 4, b);
        }
        ctx.stroke();
      });
      ctx.restore();
    },
  };

  function bandChart(canvas, spec) {
    const labels = spec.points.map((p) => p.x);
    return new Chart(canvas, {
      type: "line",
      data: {
        labels,
        datasets: [
          {
            label: "95% interval (upper)",
            data: spec.points.map((p) => p.high),
            borderWidth: 0,
            pointRadius: 0,
            fill: "+1",
            backgroundColor: BAND,
          },
          {
            label: "95% interval (lower)",
            data: spec.points.map((p) => p.low),
            borderWidth: 0,
            pointRadius: 0,
            fill: false,
          },
          {
            label: spec.label,
            data: spec.points.map((p) => p.y),
            borderColor: BRAND,
            backgroundColor: spec.points.map((p) => (p.thin ? "#ffffff" : BRAND)),
            pointBorderColor: spec.points.map((p) => (p.thin ? WARN : BRAND)),
            pointBorderWidth: 2,
            pointRadius: spec.points.map((p) => (p.thin ? 5 : 3.5)),
            pointStyle: spec.points.map((p) => (p.thin ? "triangle" : "circle")),
            tension: 0.2,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        onClick: openPoint(spec),
        onHover: hoverCursor(spec),
        scales: {
          y: { suggestedMin: spec.min, suggestedMax: spec.max, ticks: { color: MUTED } },
          x: { ticks: { color: MUTED } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: (item) => item.datasetIndex === 2,
            callbacks: {
              label: (item) => describe(spec.points[item.dataIndex], spec),
            },
          },
        },
      },
    });
  }

  function barChart(canvas, spec) {
    const horizontal = Boolean(spec.horizontal);
    const valueAxis = horizontal ? "x" : "y";
    const scales = {
      [valueAxis]: {
        min: spec.min === null ? undefined : spec.min,
        suggestedMax: spec.max === null ? undefined : spec.max,
        ticks: { color: MUTED },
      },
      [horizontal ? "y" : "x"]: { ticks: { color: MUTED, autoSkip: false } },
    };
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.points.map((p) => p.x),
        datasets: [
          {
            label: spec.label,
            data: spec.points.map((p) => p.y),
            backgroundColor: spec.points.map((p) =>
              p.thin ? "rgba(146, 64, 14, 0.35)" : p.y < 0 ? "rgba(185, 28, 28, 0.6)" : "rgba(29, 78, 216, 0.6)"
            ),
            borderColor: spec.points.map((p) => (p.thin ? WARN : p.y < 0 ? BAD : BRAND)),
            borderWidth: 1,
          },
        ],
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        onClick: openPoint(spec),
        onHover: hoverCursor(spec),
        scales,
        plugins: {
          legend: { display: false },
          whiskers: { spec },
          tooltip: {
            callbacks: { label: (item) => describe(spec.points[item.dataIndex], spec) },
          },
        },
      },
      plugins: [whiskers],
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    if (!spec.points.length) return;
    const figure = canvas.closest(".chart");
    figure.classList.add("is-drawn");
    const details = figure.querySelector("details.chart-data");
    if (details) details.open = false;
    (spec.type === "band" ? bandChart : barChart)(canvas, spec);
  });
})();
