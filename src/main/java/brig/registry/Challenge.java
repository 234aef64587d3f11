package brig.registry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One WWW-Authenticate challenge: its scheme (bearer or basic) and parameters (realm, service, scope). */
record Challenge(String scheme, Map<String, String> params) {

    /** Parses the first challenge of a header such as {@code Bearer realm="https://auth",service="reg",scope="repository:a:pull"}. */
    static Challenge parse(String header) {
        if (header == null) return null;
        String h = header.trim();
        int sp = h.indexOf(' ');
        String scheme = (sp < 0 ? h : h.substring(0, sp)).toLowerCase(Locale.ROOT);
        Map<String, String> params = new LinkedHashMap<>();
        int k = sp < 0 ? h.length() : sp + 1;
        while (k < h.length()) {
            while (k < h.length() && (h.charAt(k) == ' ' || h.charAt(k) == ',')) k++;
            int eq = h.indexOf('=', k);
            if (eq < 0) break;
            String key = h.substring(k, eq).trim().toLowerCase(Locale.ROOT);
            k = eq + 1;
            StringBuilder v = new StringBuilder();
            if (k < h.length() && h.charAt(k) == '"') {
                k++;
                while (k < h.length() && h.charAt(k) != '"') {
                    if (h.charAt(k) == '\\' && k + 1 < h.length()) k++;
                    v.append(h.charAt(k++));
                }
                k++;
            } else {
                while (k < h.length() && h.charAt(k) != ',') v.append(h.charAt(k++));
            }
            params.put(key, v.toString().trim());
        }
        return new Challenge(scheme, params);
    }
}
