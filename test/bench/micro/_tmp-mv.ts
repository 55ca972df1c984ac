import { RingHashPicker, MaglevPicker, hashString } from '/work/main/proxy/layers/balance/index.js';
const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `10.0.0.${i + 1}:8080`, weight: 1, active: 0, available: true }));
const keys = Array.from({ length: 10000 }, (_, i) => hashString(`user-${i}`));
for (const [name, b] of [['ring', (e: any) => new RingHashPicker(e, 1024)], ['maglev', (e: any) => new MaglevPicker(e, 65537)]] as const) {
  for (const n of [5, 10]) {
    const eps = mk(n); const before = keys.map(k => (b as any)(eps).pick(k, undefined, false).id);
    const p1 = (b as any)(eps); const b1 = keys.map(k => p1.pick(k, undefined, false).id);
    const p2 = (b as any)(eps.filter((_, i) => i !== 2)); const a = keys.map(k => p2.pick(k, undefined, false).id);
    let moved = 0, surv = 0; for (let i = 0; i < keys.length; i++) if (b1[i] !== a[i]) { moved++; if (b1[i] !== eps[2]!.id) surv++; }
    console.log(name, n, 'moved', moved / keys.length, 'from survivors', surv / keys.length);
  }
}
