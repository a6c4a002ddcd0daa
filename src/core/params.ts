/**
 * A model's parameters are one flat Float32Array with named, shaped views into it: the form
 * every analysis needs (Hessian-vector products, projections onto eigenvectors, SGLD steps).
 * Tensor names and shapes follow PyTorch's state_dict (docs/science.md §1), in state_dict order.
 */

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface TensorSlot extends TensorSpec {
  /** Offset of the first element in the flat vector. */
  offset: number;
  /** Number of elements (product of shape). */
  size: number;
}

export interface ParamLayout {
  tensors: TensorSlot[];
  /** Total parameter count d. */
  size: number;
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function makeLayout(specs: readonly TensorSpec[]): ParamLayout {
  const tensors: TensorSlot[] = [];
  let offset = 0;
  for (const s of specs) {
    for (const n of s.shape) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`Tensor ${s.name} has an invalid shape [${s.shape.join(', ')}]`);
    }
    const size = shapeSize(s.shape);
    tensors.push({ name: s.name, shape: [...s.shape], offset, size });
    offset += size;
  }
  return { tensors, size: offset };
}

export function slot(layout: ParamLayout, name: string): TensorSlot {
  const t = layout.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`No tensor named ${name} (have: ${layout.tensors.map((x) => x.name).join(', ')})`);
  return t;
}

/** A view (no copy) of one named tensor inside a flat parameter vector; row-major. */
export function view<T extends Float32Array | Float64Array>(layout: ParamLayout, flat: T, name: string): T {
  if (flat.length !== layout.size) throw new Error(`Parameter vector has ${flat.length} entries, layout needs ${layout.size}`);
  const t = slot(layout, name);
  return flat.subarray(t.offset, t.offset + t.size) as T;
}

/** Index of the first non-finite entry, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/**
 * The first non-finite entry of `a` in words, or null when all are finite (NaN is skipped with
 * `allowNaN`): "weight fc1.weight[3, 2] is NaN (and 2 more non-finite weights)" with a layout,
 * "element 7 is +Inf (and 1 more non-finite value)" without. `noun` names the entries counted.
 */
export function nonFiniteSummary(a: ArrayLike<number>, opts: { layout?: ParamLayout; noun?: string; allowNaN?: boolean } = {}): string | null {
  const bad = (v: number) => !Number.isFinite(v) && !(opts.allowNaN && Number.isNaN(v));
  let i = 0;
  while (i < a.length && !bad(a[i])) i++;
  if (i === a.length) return null;
  let more = 0;
  for (let j = i + 1; j < a.length; j++) if (bad(a[j])) more++;
  const v = a[i];
  const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  const noun = opts.noun ?? 'value';
  const where = opts.layout ? `weight ${describeIndex(opts.layout, i)}` : `element ${i}`;
  return `${where} is ${kind}${more ? ` (and ${more} more non-finite ${noun}${more === 1 ? '' : 's'})` : ''}`;
}

/** Names the tensor and element of a flat index, e.g. "hidden.weight[3, 17]". */
export function describeIndex(layout: ParamLayout, index: number): string {
  for (const t of layout.tensors) {
    if (index >= t.offset && index < t.offset + t.size) {
      let r = index - t.offset;
      const idx: number[] = [];
      for (let k = t.shape.length - 1; k >= 0; k--) {
        idx.unshift(r % t.shape[k]);
        r = Math.floor(r / t.shape[k]);
      }
      return `${t.name}[${idx.join(', ')}]`;
    }
  }
  return `index ${index} (outside the layout)`;
}
