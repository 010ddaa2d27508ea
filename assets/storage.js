/*
 * AppStorage: Telegram CloudStorage's call shapes over this app's /cache routes.
 *
 *   const storage = window.AppStorage;          // instead of Telegram.WebApp.CloudStorage
 *   storage.setItem("theme", "dark", (error, stored) => ...);
 *   storage.getItem("theme", (error, value) => ...);   // "" when the key does not exist
 *   storage.getItems(["a", "b"], (error, values) => ...);
 *   storage.removeItem("a", (error, removed) => ...);
 *   storage.removeItems(["a", "b"], (error, removed) => ...);
 *   storage.getKeys((error, keys) => ...);
 *
 * Each method returns the storage object, like CloudStorage. Requests carry the Mini App's
 * initData (`Authorization: tma ...`), so the server knows whose keys these are. Errors
 * are the server's codes: invalid_key, value_too_large, too_many_keys, unauthorized,
 * store_unavailable, or network_error.
 */
(function () {
  "use strict";

  function initData() {
    var webApp = window.Telegram && window.Telegram.WebApp;
    return (webApp && webApp.initData) || "";
  }

  function request(method, path, body) {
    var options = {
      method: method,
      headers: { Authorization: "tma " + initData() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/cache/" + path, options).then(
      function (response) {
        if (response.status === 204) return null;
        return response.json().then(function (data) {
          if (!response.ok) throw (data && data.error) || "http_" + response.status;
          return data;
        });
      },
      function () {
        throw "network_error";
      }
    );
  }

  function call(storage, promise, callback, shape) {
    promise.then(
      function (data) {
        if (callback) callback(null, shape(data));
      },
      function (error) {
        if (callback) callback(typeof error === "string" ? error : "network_error");
      }
    );
    return storage;
  }

  var storage = {
    setItem: function (key, value, callback) {
      var path = encodeURIComponent(key);
      return call(storage, request("PUT", path, { value: String(value) }), callback, function () {
        return true;
      });
    },
    getItem: function (key, callback) {
      return storage.getItems([key], function (error, values) {
        if (callback) callback(error, error ? undefined : values[key]);
      });
    },
    getItems: function (keys, callback) {
      return call(storage, request("POST", "get", { keys: keys }), callback, function (data) {
        var values = {};
        keys.forEach(function (key) {
          values[key] = data[key] == null ? "" : data[key];
        });
        return values;
      });
    },
    removeItem: function (key, callback) {
      return storage.removeItems([key], callback);
    },
    removeItems: function (keys, callback) {
      return call(storage, request("POST", "delete", { keys: keys }), callback, function () {
        return true;
      });
    },
    getKeys: function (callback) {
      return call(storage, request("GET", ""), callback, function (data) {
        return data.keys;
      });
    },
  };

  window.AppStorage = storage;
})();
