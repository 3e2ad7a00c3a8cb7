/** The workflow engine Ferry's own functions share (the worker reports member outcomes to it). */
import { WorkflowEngine } from './workflow-engine.js';

export const workflows = new WorkflowEngine();
