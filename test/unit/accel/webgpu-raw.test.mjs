// The WebGPU backend's raw WGSL compute on Dawn, in a child process (see test/helpers/dawn-child.mjs);
// the tests themselves are in webgpu-raw.body.mjs.
import t from 'tap';
import { runDawnBody } from '../../helpers/dawn-child.mjs';

runDawnBody(t, new URL('./webgpu-raw.body.mjs', import.meta.url));
