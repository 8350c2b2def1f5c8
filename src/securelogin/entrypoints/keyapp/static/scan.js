// Reads the portal's activation QR code with the phone's rear camera: getUserMedia for
// the frames, jsQR (vendored, jsQR.js) to decode them. The camera is on only while
// scanning: it stops when a code is read, on cancel, and on any failure.

const EVERY = 120; // ms between two decoded frames (a phone's CPU, not every frame)
const MAX_SIDE = 640; // frames are scaled down to at most this many pixels per side

/** Why the camera gave no code: "camera_denied" (the person or the browser refused),
 * "camera_absent" (no camera, or none this page may use). */
export class CameraError extends Error {
  constructor(code, cause) {
    super(code);
    this.name = "CameraError";
    this.code = code;
    this.cause = cause;
  }
}

let decoder = null;

async function loadDecoder() {
  if (!decoder) {
    await import("./jsQR.js"); // a UMD bundle: defines self.jsQR
    decoder = self.jsQR;
  }
  return decoder;
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new CameraError("camera_absent"); // no camera API (or not a secure context)
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    const denied = error && ["NotAllowedError", "SecurityError"].includes(error.name);
    throw new CameraError(denied ? "camera_denied" : "camera_absent", error);
  }
}

const aborted = () => new DOMException("scan cancelled", "AbortError");

/** Shows the camera in ``video`` and resolves with the text of the first QR code for
 * which ``accept(text)`` is true; ``other(text)`` hears of any other code read. Rejects
 * with a CameraError, or an AbortError when ``signal`` aborts. */
export async function scanQr(video, { signal, accept, other = () => {} }) {
  if (signal.aborted) throw aborted();
  const stream = await openCamera();
  const stop = () => {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  if (signal.aborted) {
    stop();
    throw aborted();
  }
  try {
    video.muted = true;
    video.setAttribute("playsinline", "");
    video.srcObject = stream;
    await video.play();
    const jsQR = await loadDecoder();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    let last = null;
    return await new Promise((resolve, reject) => {
      let timer = null;
      const cancel = () => {
        clearTimeout(timer);
        reject(aborted());
      };
      signal.addEventListener("abort", cancel, { once: true });
      const look = () => {
        if (signal.aborted) return;
        const width = video.videoWidth;
        const height = video.videoHeight;
        if (width && height) {
          const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
          canvas.width = Math.round(width * scale);
          canvas.height = Math.round(height * scale);
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          const frame = context.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "attemptBoth" });
          if (code && code.data) {
            if (accept(code.data)) {
              signal.removeEventListener("abort", cancel);
              return resolve(code.data);
            }
            if (code.data !== last) other(code.data);
            last = code.data;
          }
        }
        timer = setTimeout(look, EVERY);
      };
      look();
    });
  } finally {
    stop();
  }
}
