import { useRef, useState } from 'react';
import { exportModel, loadModelFile, loadPretrained } from '../../state/compute';
import { useStore } from '../../state/store';
import { downloadBytes } from '../download';

/** Open / drop / export safetensors files and load the shipped pretrained defaults. */
export function ModelFiles() {
  const arch = useStore((s) => s.arch);
  const model = useStore((s) => s.model);
  const pushNotice = useStore((s) => s.pushNotice);
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const openFiles = async (files: FileList | null) => {
    const f = files?.[0];
    if (!f) return;
    if (!/\.safetensors$/i.test(f.name)) pushNotice('warning', `${f.name} does not end in .safetensors; trying to read it anyway.`);
    await loadModelFile(f);
  };

  return (
    <div
      className={`model-files${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => { e.preventDefault(); setDragging(false); void openFiles(e.dataTransfer.files); }}
      data-testid="model-drop"
    >
      <div className="button-row">
        <button type="button" onClick={() => void loadPretrained(arch).then((ok) => ok || pushNotice('warning', `No pretrained ${arch} model is shipped with this build.`))} data-testid="load-pretrained">
          Load pretrained
        </button>
        <button type="button" onClick={() => input.current?.click()} data-testid="open-file">Open file…</button>
        <button type="button" disabled={!model} data-testid="export-model" onClick={() => void exportModel().then((r) => r && downloadBytes(r.bytes, r.fileName))}>
          Export
        </button>
      </div>
      <input ref={input} type="file" accept=".safetensors,application/octet-stream" hidden onChange={(e) => { void openFiles(e.target.files); e.target.value = ''; }} data-testid="file-input" />
      <p className="muted small">Or drop a <code>.safetensors</code> file here — PyTorch <code>state_dict</code> names (e.g. <code>embed.weight</code>, <code>hidden.weight</code>) load directly.</p>
    </div>
  );
}
