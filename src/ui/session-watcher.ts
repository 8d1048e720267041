import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Mesh } from '../mesh/mesh';
import type { TabSession } from './session';

/** What a view does with its session and the mesh the session joins. */
export interface SessionWatch {
  /** Called when the view gets a session; listeners added with `signal` end with it. */
  session?(session: TabSession, signal: AbortSignal): void;
  /** Called with the mesh now (undefined when off it) and on every join or leave; listeners
   * added with `signal` end when the tab leaves that mesh or the view leaves the page. */
  mesh(mesh: Mesh | undefined, signal: AbortSignal): void;
}

/**
 * A lit controller that follows a view's `session` property and the mesh it joins, so every
 * listener a view adds is removed when the session changes, the mesh goes, or the view is
 * removed from the page.
 */
export class SessionWatcher implements ReactiveController {
  #session: TabSession | undefined;
  #forSession: AbortController | undefined;
  #forMesh: AbortController | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { session: TabSession | undefined },
    private readonly watch: SessionWatch,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#follow();
  }

  hostUpdated(): void {
    if (this.host.session !== this.#session) this.#follow();
  }

  hostDisconnected(): void {
    this.#forMesh?.abort();
    this.#forSession?.abort();
    this.#session = undefined;
  }

  #follow() {
    this.hostDisconnected();
    const session = this.host.session;
    this.#session = session;
    if (!session) return;
    const ctl = new AbortController();
    this.#forSession = ctl;
    this.watch.session?.(session, ctl.signal);
    const onMesh = (mesh: Mesh | undefined) => {
      this.#forMesh?.abort();
      const forMesh = new AbortController();
      this.#forMesh = forMesh;
      this.watch.mesh(mesh, AbortSignal.any([ctl.signal, forMesh.signal]));
    };
    session.addEventListener('mesh', (e) => onMesh(e.detail), { signal: ctl.signal });
    onMesh(session.mesh);
  }
}
