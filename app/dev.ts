/**
 * What `ferry dev` (`npm start`) adds for the report service: the demo data set
 * written before the API opens, and the links printed once it runs.
 */
import type { DevOptions } from 'ferry';
import { progressBar } from 'ferry/local';
import { DEMO_DATA, seedDemoDataIfEmpty } from './reports/demo-data.js';

export const dev: DevOptions = {
  // The API does not listen until the demo data set is whole: no report is ever computed over half of it.
  prepare: async () => {
    const bar = process.stdout.isTTY ? progressBar(DEMO_DATA.rows, performance.now(), 'page views') : undefined;
    let announced = false;
    const demo = await seedDemoDataIfEmpty((written) => {
      if (!announced) {
        announced = true;
        console.log(`Ferry: the page-view table is empty; writing the demo data set (${DEMO_DATA.rows.toLocaleString('en-US')} page views over ${DEMO_DATA.days} days) before the API opens...`);
      }
      bar?.update(written);
    });
    bar?.finish();
    if (demo === undefined) {
      console.log('Ferry: page views already in the table kept (npm start -- --clean starts over)');
      return undefined;
    }
    console.log(`Ferry: wrote ${demo.rows.toLocaleString('en-US')} page views in ${(demo.elapsedMs / 1000).toFixed(1)} s (more: npm run seed -- --rows 100000 --days 60).`);
    return { demo };
  },
  hints: (url) => [
    `report       ${url}/reports/slow-blog-views   (open in a browser; JSON with curl)`,
    `reports      curl ${url}/reports`,
    `demo job     curl -X POST ${url}/pings -d '{"message":"hello"}'`,
    `its state    curl ${url}/pings/<id from the answer>`,
  ],
};
