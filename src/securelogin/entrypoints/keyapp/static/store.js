// The app's IndexedDB: the app record (server key, the vault of vault.js: the signing key
// and the offline key sealed, never in the clear) and one record per username (its OCRA
// secret sealed under the offline key). No PIN check value is kept.

const DB = "securelogin-key";

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
