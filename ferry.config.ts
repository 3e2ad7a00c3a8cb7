/**
 * The project's Ferry configuration: the app `ferry dev` (`npm start`) runs and
 * `ferry synth` / `ferry deploy` (and `cdk` through `cdk.json`) deploy. Here,
 * the report service in `app/`.
 */
import { defineConfig } from 'ferry';
import { dev } from './app/dev.js';
import { resources } from './app/resources.js';

export default defineConfig({ app: resources, stackName: 'Ferry', dev });
