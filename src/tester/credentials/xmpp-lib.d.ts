// Types for the parts of xmpp.js (@xmpp/*, ES modules without typings) that the XMPP source uses.
declare module '@xmpp/xml' {
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }
  function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string | undefined)[]): Element;
  export default xml;
}

declare module '@xmpp/client-core' {
  import type { Element } from '@xmpp/xml';
  export class Client {
    constructor(options: { service: string; domain: string; timeout?: number });
    options: { service: string; domain: string };
    socket: unknown;
    status: string;
    transports: unknown[];
    jid: unknown;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    restart(): Promise<void>;
    isSecure(): boolean;
    sendReceive(el: Element, timeout?: number): Promise<Element>;
    socketParameters(service: string): Record<string, unknown> | undefined;
    _attachSocket(socket: unknown): void;
    _onData(data: Buffer | string): void;
    _onSeeOtherHost(error: Error): Promise<void>;
    emit(event: string, ...args: unknown[]): boolean;
    on(event: 'error', fn: (e: Error) => void): this;
    on(event: string, fn: (...args: unknown[]) => void): this;
  }
}

declare module '@xmpp/tcp' {
  export default function tcp(deps: { entity: unknown }): unknown;
}
declare module '@xmpp/tls' {
  export default function tls(deps: { entity: unknown }): unknown;
}
declare module '@xmpp/middleware' {
  export interface Middleware {
    use(fn: (ctx: unknown, next: () => unknown) => unknown): void;
  }
  export default function middleware(deps: { entity: unknown }): Middleware;
}
declare module '@xmpp/stream-features' {
  import type { Element } from '@xmpp/xml';
  import type { Client } from '@xmpp/client-core';
  export interface StreamFeatures {
    use(name: string, xmlns: string, handler: (ctx: { entity: Client }, next: () => Promise<unknown>, feature: Element) => Promise<unknown>): void;
  }
  export default function streamFeatures(deps: { middleware: unknown }): StreamFeatures;
}
declare module '@xmpp/iq/caller.js' {
  import type { Element } from '@xmpp/xml';
  export interface IqCaller {
    request(stanza: Element, timeoutMs?: number): Promise<Element>;
    get(child: Element, to?: string, timeoutMs?: number): Promise<Element | undefined>;
    set(child: Element, to?: string, timeoutMs?: number): Promise<Element | undefined>;
  }
  export default function iqCaller(deps: { entity: unknown; middleware: unknown }): IqCaller;
}
declare module '@xmpp/starttls/starttls.js' {
  export function canUpgrade(socket: unknown): boolean;
  export function upgrade(socket: unknown, options: Record<string, unknown>): Promise<unknown>;
}
declare module '@xmpp/sasl' {
  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;
  export default function sasl(
    deps: { streamFeatures: unknown; saslFactory: unknown },
    onAuthenticate: (authenticate: Authenticate, mechanisms: string[], fast: unknown, entity: { isSecure(): boolean }) => Promise<void>,
  ): void;
}
declare module '@xmpp/sasl-scram-sha-1' {
  export default function scramSha1(factory: unknown): void;
}
declare module '@xmpp/sasl-plain' {
  export default function plain(factory: unknown): void;
}
declare module '@xmpp/resource-binding' {
  export default function resourceBinding(deps: { iqCaller: unknown; streamFeatures: unknown }, resource?: string): void;
}
declare module 'saslmechanisms' {
  export default class SASLFactory {}
}
