// The ECharts the portal ships: only the charts and components oml.js
// uses, with the Italian locale, bundled by `make assets` (esbuild) into
// internal/web/static/vendor/echarts.min.js as the global `echarts`.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import langIT from 'echarts/i18n/langIT-obj.js';

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);
echarts.registerLocale('IT', langIT);
window.echarts = echarts;
