// The part of fengari (Lua 5.3 in JavaScript) that test/tooling/argocd-health.test.ts uses; the
// package ships no types. Strings cross as Lua strings (bytes); where fengari converts a JS string
// itself, the parameter says `string | Uint8Array`.
declare module 'fengari' {
  /** An opaque lua_State. */
  export interface LuaState {
    readonly __luaState: never;
  }
  export type LuaCFunction = (L: LuaState) => number;

  export function to_luastring(s: string): Uint8Array;

  export const lua: {
    readonly LUA_OK: number;
    readonly LUA_TTABLE: number;
    lua_createtable(L: LuaState, narray: number, nrec: number): void;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: string | Uint8Array): Uint8Array;
    lua_setfield(L: LuaState, idx: number, k: string | Uint8Array): void;
    lua_seti(L: LuaState, idx: number, n: number): void;
    lua_setglobal(L: LuaState, name: string | Uint8Array): void;
    /** Pushes t[k]; returns the value's type. */
    lua_getfield(L: LuaState, idx: number, k: string | Uint8Array): number;
    lua_type(L: LuaState, idx: number): number;
    /** null unless the value is a string or a number. */
    lua_tojsstring(L: LuaState, idx: number): string | null;
    lua_pop(L: LuaState, n: number): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbuffer(L: LuaState, buff: Uint8Array, size: number | null, chunkname: Uint8Array): number;
    luaL_requiref(L: LuaState, modname: string | Uint8Array, openf: LuaCFunction, glb: boolean): void;
  };

  export const lualib: {
    luaopen_base: LuaCFunction;
    luaopen_table: LuaCFunction;
    luaopen_string: LuaCFunction;
    luaopen_math: LuaCFunction;
  };
}
