import { useRef } from 'react';
import { loadIdxFiles } from '../../state/compute';
import { useStore } from '../../state/store';

/** Bring the full MNIST set as the standard IDX files (raw or .gz). */
export function IdxLoader() {
  const input = useRef<HTMLInputElement>(null);
  const user = useStore((s) => s.userMnist);
  const clear = useStore((s) => s.setUserMnist);
  return (
    <div className="idx-loader" onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); e.stopPropagation(); void loadIdxFiles([...e.dataTransfer.files]); }}>
      <p className="small muted">
        Data: {user ? <strong>{user.label}</strong> : 'the 10,000 built-in digits (8,000 train / 2,000 test)'}
        {user && <> · <button type="button" className="link-button" onClick={() => clear(null)}>use built-in</button></>}
      </p>
      <button type="button" onClick={() => input.current?.click()} data-testid="idx-open">Load MNIST IDX files…</button>
      <input ref={input} type="file" multiple hidden data-testid="idx-input" onChange={(e) => { void loadIdxFiles([...(e.target.files ?? [])]); e.target.value = ''; }} />
    </div>
  );
}
