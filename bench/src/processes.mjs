// The bench's child processes (the AS stub and the variant servers): started with an IPC channel,
// optionally pinned to CPUs with taskset, ready when they send their first message.
import { spawn } from 'node:child_process';

/** Starts a Node script with an IPC channel, pinned to `cpus` when given; resolves with the child and its first message. */
export function startNode(script, env, cpus) {
  const cmd = cpus ? 'taskset' : process.execPath;
  const argv = cpus ? ['-c', cpus, process.execPath, script] : [script];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

/** Ends a child: closing its IPC channel makes it exit; SIGKILL after 2 s if it has not. */
export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.disconnect?.();
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

/** Sends `message` to a child and resolves with the `key` field of its first reply that has one. */
export function ask(child, message, key) {
  return new Promise((resolve) => {
    const listen = (reply) => {
      if (reply?.[key] === undefined) return;
      child.off('message', listen);
      resolve(reply[key]);
    };
    child.on('message', listen);
    child.send(message);
  });
}
