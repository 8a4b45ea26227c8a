// The WebGPU backend's kernels on Dawn, in a child process (see test/helpers/dawn-child.mjs);
// the tests themselves are in webgpu-kernels.body.mjs.
import t from 'tap';
import { runDawnBody } from '../../helpers/dawn-child.mjs';

runDawnBody(t, new URL('./webgpu-kernels.body.mjs', import.meta.url));
