# Prints Rust table rows ("request", "reply") with replies recorded from
# the server at the given port, rendered as tests/common/table.rs does.
import socket, sys, shlex
def enc(args):
    out=b"*%d\r\n"%len(args)
    for a in args:
        a=a.encode()
        out+=b"$%d\r\n%s\r\n"%(len(a),a)
    return out
def esc(b):
    out=""
    for c in b:
        if c==0x22: out+='\\"'
        elif c==0x5c: out+='\\\\'
        elif c==0x27: out+="\\'"
        elif 32<=c<127: out+=chr(c)
        elif c==10: out+="\\n"
        elif c==13: out+="\\r"
        elif c==9: out+="\\t"
        else: out+="\\x%02x"%c
    return out
class C:
    def __init__(s,port):
        s.s=socket.create_connection(("127.0.0.1",port)); s.f=s.s.makefile("rb")
    def cmd(s,args):
        s.s.sendall(enc(args)); return s.read()
    def read(s):
        l=s.f.readline()
        t=l[:1]; r=l[1:-2]
        if t==b"+": return "+OK" if r==b"OK" else "+"+r.decode()
        if t==b"-": return "-"+r.decode()
        if t==b":": return ":"+r.decode()
        if t==b"$":
            n=int(r)
            if n<0: return "nil"
            d=s.f.read(n+2)[:-2]; return '"'+esc(d)+'"'
        if t==b"*":
            n=int(r)
            if n<0: return "nil"
            return "["+", ".join(s.read() for _ in range(n))+"]"
        raise Exception(l)
port=int(sys.argv[2]); cs={}
for l in open(sys.argv[1]):
    l=l.rstrip("\n")
    if not l.strip(): continue
    if l.startswith("#"): print("            //"+l[1:]); continue
    n,_,rest=l.partition(":"); rest=rest.strip()
    if n not in cs: cs[n]=C(port)
    rep=cs[n].cmd(shlex.split(rest))
    rq=rest.replace('\\','\\\\').replace('"','\\"')
    rp=rep.replace('\\','\\\\').replace('"','\\"')
    print(f'            ("{rq}", "{rp}"),' if n=="1" else f'            [{n}] ("{rq}", "{rp}"),')
