// The app's IndexedDB: the app record (server key, the non-extractable P-256 CryptoKey,
// the app PIN's verifier) and one record per username (its non-extractable OCRA key).
// CryptoKeys are stored as they are (structured clone): their bytes never reach script.

const DB = "securelogin-key";
const PIN_ITERATIONS = 200000;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("app");
      request.result.createObjectStore("users", { keyPath: "username" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(store, mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const getApp = () => run("app", "readonly", (s) => s.get("app"));
export const putApp = (app) => run("app", "readwrite", (s) => s.put(app, "app"));
export const listUsers = () => run("users", "readonly", (s) => s.getAll());
export const putUser = (user) => run("users", "readwrite", (s) => s.put(user));

async function pinHash(pin, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    256,
  );
  return new Uint8Array(bits);
}

/** The app PIN's verifier (PBKDF2-SHA-256, a random salt); the PIN itself is not kept. */
export async function pinVerifier(pin) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { salt, iterations: PIN_ITERATIONS, hash: await pinHash(pin, salt, PIN_ITERATIONS) };
}

export async function pinMatches(pin, verifier) {
  const hash = await pinHash(pin, verifier.salt, verifier.iterations);
  let diff = hash.length ^ verifier.hash.length;
  for (let i = 0; i < hash.length; i++) diff |= hash[i] ^ verifier.hash[i];
  return diff === 0;
}
