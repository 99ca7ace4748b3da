// oml portal: draws the charts described in the page, offers their PNG,
// copies API URLs. Every chart's data is also in the table beside it.
(function () {
  'use strict';
  var colours = ['#0066cc', '#cc334d', '#008055', '#a35e00', '#5c2d91', '#00838f', '#7a7a00', '#b0006e', '#3d4d5c', '#2e7d32', '#6d4c41', '#1565c0'];

  function fmt(v) {
    return v === null || v === undefined ? 'n.d.' : Number(v).toLocaleString('it-IT', { maximumFractionDigits: 1 });
  }

  // tooltip builds the tooltip of an axis as DOM nodes, coloured through
  // the CSSOM: ECharts' own tooltip markup carries style="" attributes,
  // which the portal's Content-Security-Policy (style-src 'self', no
  // 'unsafe-inline') refuses. textContent also keeps labels from being
  // read as HTML.
  function tooltip(params) {
    var list = Array.isArray(params) ? params : [params];
    var box = document.createElement('div');
    if (list.length) {
      var head = document.createElement('div');
      head.className = 'oml-tip-head';
      head.textContent = list[0].axisValueLabel !== undefined ? list[0].axisValueLabel : list[0].name;
      box.appendChild(head);
    }
    list.forEach(function (p) {
      var row = document.createElement('div');
      row.className = 'oml-tip-row';
      var dot = document.createElement('span');
      dot.className = 'oml-tip-dot';
      dot.style.backgroundColor = typeof p.color === 'string' ? p.color : '#3d4d5c';
      var name = document.createElement('span');
      name.textContent = p.seriesName;
      var value = document.createElement('strong');
      value.className = 'oml-tip-value';
      value.textContent = fmt(Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value);
      row.appendChild(dot);
      row.appendChild(name);
      row.appendChild(value);
      box.appendChild(row);
    });
    return box;
  }

  function option(spec) {
    var horizontal = spec.kind === 'barh';
    var cat = { type: 'category', data: spec.categories, axisLabel: horizontal ? { width: 160, overflow: 'truncate' } : {} };
    var val = { type: 'value', axisLabel: { formatter: fmt } };
    return {
      aria: { enabled: true, label: { description: spec.title + '. I dati sono nella tabella accanto al grafico.' } },
      color: colours,
      animation: false,
      tooltip: { trigger: 'axis', formatter: tooltip },
      legend: { top: 0, type: 'scroll' },
      grid: { left: horizontal ? 170 : 60, right: 20, top: 36, bottom: 30, containLabel: false },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? cat : val,
      series: spec.series.map(function (s) {
        return { name: s.name, type: s.type || (spec.kind === 'line' ? 'line' : 'bar'), data: s.data, connectNulls: false, showSymbol: spec.categories.length <= 36 };
      })
    };
  }

  function draw() {
    document.querySelectorAll('input[data-absolute]').forEach(function (el) {
      el.value = new URL(el.value, window.location.href).href;
    });
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.getAttribute('data-chart')).textContent);
      var chart = echarts.init(el, null, { locale: 'IT' });
      chart.setOption(option(spec));
      window.addEventListener('resize', function () { chart.resize(); });
    });
    document.querySelectorAll('[data-png]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var chart = echarts.getInstanceByDom(document.getElementById(btn.getAttribute('data-png')));
        var a = document.createElement('a');
        a.href = chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' });
        a.download = btn.getAttribute('data-name') + '.png';
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    });
    document.querySelectorAll('[data-copy]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var input = document.getElementById(btn.getAttribute('data-copy'));
        input.select();
        var done = function () { btn.textContent = 'Copiato'; };
        if (navigator.clipboard) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand('copy'); done(); });
        } else {
          document.execCommand('copy');
          done();
        }
      });
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
