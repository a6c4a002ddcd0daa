import { useState } from 'react';
import { ARCH_IDS, ARCH_LABELS, describeConfig, paramCount, validateConfig, type ArchId } from '../../core/models/config';
import { buildModel } from '../../state/compute';
import { configOf, useStore } from '../../state/store';
import { ModelFiles } from './ModelFiles';
import { IdxLoader } from './IdxLoader';
import { Term, type TermId } from './Term';

function NumberField(props: { label: string; term?: TermId; value: number; min: number; max: number; step?: number; onChange(v: number): void; testid?: string }) {
  return (
    <label className="field">
      <span>{props.term ? <Term id={props.term}>{props.label}</Term> : props.label}</span>
      <input
        type="number"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        data-testid={props.testid}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (e.target.value !== '' && Number.isFinite(v)) props.onChange(v);
        }}
      />
    </label>
  );
}

function ListField(props: { label: string; term?: TermId; value: number[]; onChange(v: number[]): void; hint: string }) {
  const [text, setText] = useState(props.value.join(','));
  const [bad, setBad] = useState(false);
  return (
    <label className="field">
      <span>{props.term ? <Term id={props.term}>{props.label}</Term> : props.label}</span>
      <input
        type="text"
        value={text}
        aria-invalid={bad}
        title={props.hint}
        onChange={(e) => {
          setText(e.target.value);
          const parts = e.target.value.split(',').map((x) => Number(x.trim()));
          const ok = parts.length > 0 && parts.every((x) => Number.isInteger(x) && x > 0);
          setBad(!ok);
          if (ok) props.onChange(parts);
        }}
      />
    </label>
  );
}

/** Architecture, sizes and seeds; the parameter count always matches the sizes shown. */
export function ModelPicker() {
  const s = useStore();
  const config = configOf(s);
  const errors = validateConfig(config);
  const d = errors.length ? null : paramCount(config);
  const model = s.model;
  const stale = model && describeConfig(model.config) !== describeConfig(config);
  return (
    <section className="panel" aria-label="Model">
      <h2>Model</h2>
      <label className="field">
        <span>Architecture</span>
        <select value={s.arch} onChange={(e) => s.setArch(e.target.value as ArchId)} data-testid="arch-select">
          {ARCH_IDS.map((a) => <option key={a} value={a}>{ARCH_LABELS[a]}</option>)}
        </select>
      </label>
      {(s.arch === 'modadd' || s.arch === 'modadd-gelu') && (
        <div className="field-row">
          <NumberField label="p" term="p" value={s.p} min={2} max={1000} onChange={(p) => s.setSizes({ p })} testid="size-p" />
          <NumberField label="e" term="embedDim" value={s.e} min={1} max={4096} onChange={(e) => s.setSizes({ e })} />
          <NumberField label="h" term="hiddenWidth" value={s.h} min={1} max={8192} onChange={(h) => s.setSizes({ h })} />
        </div>
      )}
      {s.arch === 'mnist-mlp' && <IdxLoader />}
      {s.arch === 'mnist-mlp' && <ListField key="hidden" label="Hidden widths" term="mlpWidths" value={s.hidden} onChange={(hidden) => s.setSizes({ hidden })} hint="comma-separated, e.g. 50,50" />}
      {s.arch === 'matfac' && <ListField key="widths" label="Widths (in, hidden…, out)" term="matfacWidths" value={s.widths} onChange={(widths) => s.setSizes({ widths })} hint="comma-separated, e.g. 20,20,20" />}
      <div className="field-row">
        <NumberField label="Init seed" term="initSeed" value={s.seed} min={0} max={2 ** 31 - 1} onChange={(seed) => s.setSizes({ seed })} />
        {(s.arch === 'modadd' || s.arch === 'modadd-gelu' || s.arch === 'matfac') && (
          <NumberField label="Data seed" term="dataSeed" value={s.dataSeed} min={0} max={2 ** 31 - 1} onChange={(dataSeed) => s.setData({ dataSeed })} />
        )}
      </div>
      {(s.arch === 'modadd' || s.arch === 'modadd-gelu') && (
        <div className="field-row">
          <NumberField label="Train fraction" term="trainFraction" value={s.trainFraction} min={0.01} max={1} step={0.05} onChange={(trainFraction) => trainFraction > 0 && trainFraction <= 1 && s.setData({ trainFraction })} />
          <label className="field">
            <span><Term id="modOp">Operation</Term></span>
            <select value={s.op} onChange={(e) => s.setData({ op: e.target.value as 'sum' | 'random' })}>
              <option value="sum">(a + b) mod p</option>
              <option value="random">random commutative (control)</option>
            </select>
          </label>
        </div>
      )}
      <p className="param-count" data-testid="param-count">
        {d !== null ? <><strong>{d.toLocaleString('en-US')}</strong> <Term id="d">parameters</Term></> : <span className="error-text">{errors.join('; ')}</span>}
      </p>
      <button type="button" className="primary" disabled={d === null} onClick={() => void buildModel()} data-testid="build-model">
        Build model (fresh init)
      </button>
      <ModelFiles />
      <p className="muted small" data-testid="current-model">
        {model ? <>Current: {model.name}{stale ? ' — settings changed, build to apply' : ''}</> : 'No model yet.'}
      </p>
    </section>
  );
}
