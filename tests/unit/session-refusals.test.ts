// Session files are user input: a NaN or infinite value in the model's θ, in a checkpoint or in
// the spectrum is refused with one SessionFileError naming the part and the element.
import type { TrainOptions } from '../../src/core/train/options';
import { describe, expect, test } from 'vitest';
import { decodeSession, encodeSession, SESSION_FORMAT, SessionFileError, type Session } from '../../src/core/io/session';
import { writeSafetensors } from '../../src/core/io/safetensors';
import { initParams } from '../../src/core/models/init';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { defaultDataSpec } from '../../src/core/data/spec';
import { isBadInput } from '../../src/core/errors';

/** A valid training recipe for the sessions these tests write. */
const RECIPE: TrainOptions = { optimizer: 'adamw', lr: 0.01, weightDecay: 0, batchSize: 'full', steps: 100, seed: 0, evalEvery: 10, checkpointEvery: 50 };

// modadd p=5 e=3 h=4: embed 0–14, hidden.weight 15–38 ([4, 6]), hidden.bias 39–42, out.weight 43–62, out.bias 63–67.
const config: ModelConfig = { arch: 'modadd', p: 5, e: 3, h: 4 };
const model = { name: 'm', config, theta: initParams(config, 1), data: defaultDataSpec(config) };
const cp = (step: number, edit?: (t: Float32Array) => void) => {
  const theta = initParams(config, step + 2);
  edit?.(theta);
  return { step, theta };
};
const spectrum = (eig: number[], res: number[]) => ({ info: { d: 68 }, eigenvalues: Float64Array.from(eig), residuals: Float64Array.from(res) });

function session(over: Partial<Session> = {}): Session {
  return { settings: { arch: 'modadd' }, model, run: null, spectrum: null, ...over };
}

function refused(bytes: Uint8Array): string {
  try {
    decodeSession(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SessionFileError);
    expect(isBadInput(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the session was accepted');
}

/** A model file written tensor by tensor (PyTorch layout), so its θ can hold what our encoder refuses. */
function modelFileWith(theta: Float32Array): Uint8Array {
  return writeSafetensors(layoutFor(config).tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: theta.slice(t.offset, t.offset + t.size) })));
}
function sessionWithModelFile(file: Uint8Array): Uint8Array {
  return writeSafetensors([{ name: 'model.file', dtype: 'U8', shape: [file.length], data: file }], { session: JSON.stringify({ format: SESSION_FORMAT, settings: {} }) });
}

describe('sessions with non-finite values are refused', () => {
  test('NaN / Inf in the model θ: the tensor and element', () => {
    const th = model.theta.slice();
    th[15 + 1 * 6 + 2] = NaN;
    expect(decodeSession(sessionWithModelFile(modelFileWith(model.theta))).model!.theta).toEqual(model.theta);
    expect(refused(sessionWithModelFile(modelFileWith(th)))).toMatch(/^The session's model: .*weight hidden\.weight\[1, 2\] is NaN/);
    const th2 = model.theta.slice();
    th2[67] = -Infinity;
    expect(refused(sessionWithModelFile(modelFileWith(th2)))).toMatch(/^The session's model: .*weight out\.bias\[4\] is -Inf/);
  });

  test('NaN / Inf in a checkpoint: the step, the weight, and how many more', () => {
    const bad = encodeSession(session({
      run: { baseName: 'm', opts: RECIPE, history: [{ step: 0, trainLoss: 1, testLoss: 1 }], checkpoints: [cp(0), cp(250, (t) => { t[44] = Infinity; t[3] = NaN; t[60] = NaN; })] },
    }));
    expect(refused(bad)).toBe('Checkpoint at step 250 (run.checkpoint.250): weight embed.weight[1, 0] is NaN (and 2 more non-finite values); a session with a non-finite checkpoint is refused');
    // Without a model in the session the flat index is named.
    const noModel = encodeSession(session({ model: null, run: { baseName: 'm', opts: RECIPE, history: [], checkpoints: [cp(10, (t) => { t[7] = -Infinity; })] } }));
    expect(refused(noModel)).toBe('Checkpoint at step 10 (run.checkpoint.10): element 7 is -Inf; a session with a non-finite checkpoint is refused');
    // The same session without the bad value is read back.
    const good = decodeSession(encodeSession(session({ run: { baseName: 'm', opts: RECIPE, history: [], checkpoints: [cp(0), cp(250)] } })));
    expect(good.run!.checkpoints.map((c) => c.step)).toEqual([0, 250]);
  });

  test('non-finite eigenvalues or SLQ values are refused; a NaN residual (not computed) is kept, an infinite one is not', () => {
    expect(refused(encodeSession(session({ spectrum: spectrum([3, NaN, 1], [0, 0, 0]) }))))
      .toBe('spectrum.eigenvalues element 1 is NaN: the file is corrupt');
    expect(refused(encodeSession(session({ spectrum: spectrum([3, 2, 1], [0, Infinity, NaN]) }))))
      .toBe('spectrum.residuals element 1 is +Inf: the file is corrupt');
    const slq = { nodes: [Float64Array.from([1, 2])], weights: [Float64Array.from([0.5, -Infinity])] };
    expect(refused(encodeSession(session({ spectrum: { ...spectrum([3], [NaN]), slq } }))))
      .toBe('spectrum.slq.weights.0 element 1 is -Inf: the file is corrupt');
    const ok = decodeSession(encodeSession(session({ spectrum: spectrum([3, 2, 1], [1e-9, NaN, NaN]) })));
    expect(Number.isNaN(ok.spectrum!.residuals[2])).toBe(true);
  });

  test('malformed run metadata: steps, duplicates, history entries, settings', () => {
    const meta = (m: Record<string, unknown>, tensors: Parameters<typeof writeSafetensors>[0] = []) =>
      writeSafetensors(tensors, { session: JSON.stringify({ format: SESSION_FORMAT, settings: {}, ...m }) });
    const ck = (step: number) => ({ name: `run.checkpoint.${step}`, dtype: 'F32' as const, shape: [2], data: new Float32Array(2) });
    expect(refused(meta({ run: { baseName: 'm', history: [], steps: [-1] } }))).toMatch(/checkpoint at step -1; steps are integers ≥ 0/);
    expect(refused(meta({ run: { baseName: 'm', history: [], steps: [5, 5] } }, [ck(5)]))).toMatch(/checkpoint at step 5 twice/);
    expect(refused(meta({ run: { baseName: 'm', history: [{ step: 0, trainLoss: 1, testLoss: 1 }, 'x'], steps: [] } }))).toMatch(/history entry 1 is malformed/);
    expect(refused(meta({ settings: [1, 2] }))).toMatch(/settings are malformed/);
  });
});
