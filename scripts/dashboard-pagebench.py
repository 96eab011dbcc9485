# Page latency of the population dashboard over HTTPS: sign in as an analyst, then GET each
# page N times, sequentially; prints p50/p99/max in ms per page.
import sys, ssl, time, re, urllib.request, urllib.parse, http.cookiejar
base, user, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
jar = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
op = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(jar), NoRedirect)
form = op.open(base + "/login").read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
try:
    op.open(base + "/login", urllib.parse.urlencode({"username": user, "password": password, "csrf": csrf, "next": "/"}).encode())
except urllib.error.HTTPError as e:
    assert e.code == 303, e.code
for path in sys.argv[5:]:
    times = []
    for _ in range(n):
        t = time.perf_counter(); body = op.open(base + path).read(); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"{path}: n={n} p50={times[n//2]:.1f} ms p99={times[min(n-1, int(n*0.99))]:.1f} ms max={times[-1]:.1f} ms bytes={len(body)}")
