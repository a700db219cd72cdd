// Vigil console: charts from the JSON each page embeds, the light/dark switch, and the current page in the bar.
(function () {
  'use strict';
  var root = document.documentElement;

  function css(name) {
    return getComputedStyle(root).getPropertyValue(name).trim();
  }

  function palette() {
    return [1, 2, 3, 4, 5].map(function (i) { return css('--chart-' + i); });
  }

  function base() {
    return {
      color: palette(),
      textStyle: { color: css('--fg') },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0, textStyle: { color: css('--fg') } },
      animation: false
    };
  }

  function axis(data) {
    return {
      type: 'category', data: data,
      axisLine: { lineStyle: { color: css('--line') } },
      axisLabel: { color: css('--muted') }
    };
  }

  function values() {
    return {
      type: 'value', minInterval: 1,
      splitLine: { lineStyle: { color: css('--line') } },
      axisLabel: { color: css('--muted') }
    };
  }

  var builders = {
    // Reports per day of the top buckets.
    lines: function (d) {
      var o = base();
      o.xAxis = axis(d.days);
      o.yAxis = values();
      o.series = d.series.map(function (s) {
        return { name: s.name.length > 60 ? s.name.slice(0, 57) + '…' : s.name, type: 'line', data: s.data, showSymbol: false };
      });
      return o;
    },
    // A bucket's reports per day, stacked by release.
    bars: function (d) {
      var o = base();
      o.xAxis = axis(d.days);
      o.yAxis = values();
      o.series = d.series.map(function (s) {
        return { name: s.name, type: 'bar', stack: 'releases', data: s.data };
      });
      return o;
    },
    // Crash rate per 1,000 VM-hours, this release against the previous one.
    rates: function (d) {
      var o = base();
      delete o.legend;
      o.grid.top = 16;
      o.xAxis = axis(d.releases);
      o.yAxis = values();
      o.yAxis.minInterval = 0;
      o.series = [{ type: 'bar', data: d.rates, barMaxWidth: 48 }];
      return o;
    }
  };

  var charts = [];

  function draw() {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    if (typeof echarts === 'undefined') {
      return;
    }
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      // Read once: disposing of a chart empties its element, the data block with it.
      if (!el.vigilData) {
        el.vigilData = JSON.parse(el.querySelector('script').textContent);
      }
      var chart = echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(builders[el.dataset.chart](el.vigilData));
      el.dataset.drawn = root.dataset.theme || 'system';
      charts.push(chart);
    });
  }

  var theme = document.getElementById('theme');
  if (theme) {
    theme.addEventListener('click', function () {
      var dark = root.dataset.theme ? root.dataset.theme === 'dark'
          : window.matchMedia('(prefers-color-scheme: dark)').matches;
      root.dataset.theme = dark ? 'light' : 'dark';
      localStorage.setItem('vigil-theme', root.dataset.theme);
      draw();
    });
  }

  var here = location.pathname;
  document.querySelectorAll('.bar nav a').forEach(function (a) {
    var nav = a.dataset.nav;
    if ((nav === 'crashes' && (here === '/' || here.indexOf('/buckets') === 0))
        || (nav !== 'crashes' && here.indexOf('/' + nav) === 0)) {
      a.setAttribute('aria-current', 'page');
    }
  });

  // A console text opens at the crash: the first marked line in view.
  var text = document.getElementById('console-text');
  var hit = text && text.querySelector('mark');
  if (hit) {
    text.scrollTop = Math.max(0, hit.offsetTop - text.offsetTop - 48);
  }

  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  draw();
})();
