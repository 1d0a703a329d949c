package luabridge

import lua "github.com/yuin/gopher-lua"

// stateKey is the registry field of a bridge state that points back to its
// *State, for the Go functions that need the request it serves.
const stateKey = "lsgi.bridge.state"

// register records s in its Lua state's registry; see RequestID.
func (s *State) register() {
	ud := s.lstate.NewUserData()
	ud.Value = s
	s.lstate.SetField(s.lstate.Get(lua.RegistryIndex), stateKey, ud)
}

// RequestID returns the id of the request L is serving (lsgi.request_id),
// for Go functions that log on a request's behalf, as lsgi.log does. It
// returns "" outside a request (a main chunk), in a state the bridge did
// not open, and for a request the host gave no id.
func RequestID(L *lua.LState) string {
	reg, ok := L.Get(lua.RegistryIndex).(*lua.LTable)
	if !ok {
		return ""
	}
	ud, ok := reg.RawGetString(stateKey).(*lua.LUserData)
	if !ok {
		return ""
	}
	s, ok := ud.Value.(*State)
	if !ok {
		return ""
	}
	return s.requestID
}
