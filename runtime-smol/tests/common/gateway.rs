//! A home gateway for a test's namespace: answers SSDP searches (multicast on `lo`), serves
//! its device and service descriptions, and answers the WANIPConnection SOAP calls a UPnP
//! client makes, recording each. It can grant a shorter lease than asked, answer every call
//! with an error, or stay silent.

use super::netns::GATEWAY_IP;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};

const SERVICE: &str = "urn:schemas-upnp-org:service:WANIPConnection:1";
const HTTP_PORT: u16 = 5000;

/// How the gateway behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Maps ports, listing each mapping with `lease` seconds left.
    Working {
        /// The lease it reports for mappings.
        lease: u32,
    },
    /// Answers every SOAP call with a UPnP error.
    Failing,
    /// Answers no SSDP search.
    Silent,
}

/// A SOAP call the gateway received: the action and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `AddPortMapping`, `DeletePortMapping`...
    pub action: String,
    /// The request body, for the arguments.
    pub body: String,
}

impl Call {
    /// The value of argument `name`.
    pub fn arg(&self, name: &str) -> Option<&str> {
        let open = format!("<{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{name}>"))?;
        Some(&self.body[start..start + end])
    }
}

/// Calls received so far.
pub type Calls = Arc<Mutex<Vec<Call>>>;

/// Starts the gateway with external address `external`.
pub fn start(mode: Mode, external: Ipv4Addr) -> Calls {
    let calls: Calls = Arc::default();
    let ssdp = UdpSocket::bind("0.0.0.0:1900").unwrap();
    ssdp.join_multicast_v4(&Ipv4Addr::new(239, 255, 255, 250), &Ipv4Addr::LOCALHOST)
        .unwrap();
    let reply_from = UdpSocket::bind(format!("{GATEWAY_IP}:0")).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = ssdp.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            if mode == Mode::Silent || !text.starts_with("M-SEARCH") {
                continue;
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: \
                 urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:test::gw\r\n\
                 EXT:\r\nSERVER: test/1.0 UPnP/1.0\r\n\
                 LOCATION: http://{GATEWAY_IP}:{HTTP_PORT}/rootDesc.xml\r\n\r\n"
            );
            let _ = reply_from.send_to(answer.as_bytes(), from);
        }
    });
    let http = TcpListener::bind(format!("{GATEWAY_IP}:{HTTP_PORT}")).unwrap();
    let log = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in http.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || serve_http(stream, mode, external, &log));
        }
    });
    calls
}

/// One HTTP request on `stream`, answered and closed.
fn serve_http(stream: TcpStream, mode: Mode, external: Ipv4Addr, log: &Mutex<Vec<Call>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let (mut length, mut action) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "soapaction" => {
                let value = value.trim().trim_matches('"');
                action = value.rsplit('#').next().unwrap_or("").to_string();
            }
            _ => {}
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, text) = match path {
        "/rootDesc.xml" => (200, ROOT_DESC.replace("{SERVICE}", SERVICE)),
        "/WANIPCn.xml" => (200, SCPD.to_string()),
        "/ctl/IPConn" => {
            let call = Call { action, body };
            let answer = soap(&call, mode, external);
            log.lock().unwrap().push(call);
            answer
        }
        _ => (404, String::new()),
    };
    let reason = if status == 200 { "OK" } else { "Error" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        text.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(text.as_bytes());
}

/// The status and envelope answering `call`.
fn soap(call: &Call, mode: Mode, external: Ipv4Addr) -> (u16, String) {
    let lease = match mode {
        Mode::Working { lease } => lease,
        _ => return fault(501, "Action Failed"),
    };
    let body = match call.action.as_str() {
        "AddPortMapping" | "DeletePortMapping" => String::new(),
        "GetExternalIPAddress" => {
            format!("<NewExternalIPAddress>{external}</NewExternalIPAddress>")
        }
        "GetGenericPortMappingEntry" if call.arg("NewPortMappingIndex") == Some("0") => format!(
            "<NewRemoteHost></NewRemoteHost><NewExternalPort>12008</NewExternalPort>\
             <NewProtocol>TCP</NewProtocol><NewInternalPort>12008</NewInternalPort>\
             <NewInternalClient>{GATEWAY_IP}</NewInternalClient><NewEnabled>1</NewEnabled>\
             <NewPortMappingDescription>rbtcd</NewPortMappingDescription>\
             <NewLeaseDuration>{lease}</NewLeaseDuration>"
        ),
        "GetGenericPortMappingEntry" => return fault(713, "SpecifiedArrayIndexInvalid"),
        _ => return fault(401, "Invalid Action"),
    };
    let action = &call.action;
    (
        200,
        envelope(&format!(
            "<u:{action}Response xmlns:u=\"{SERVICE}\">{body}</u:{action}Response>"
        )),
    )
}

fn fault(code: u16, description: &str) -> (u16, String) {
    (
        500,
        envelope(&format!(
            "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>\
             <detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">\
             <errorCode>{code}</errorCode><errorDescription>{description}</errorDescription>\
             </UPnPError></detail></s:Fault>"
        )),
    )
}

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>{body}</s:Body>\
         </s:Envelope>"
    )
}

const ROOT_DESC: &str = r#"<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>test gateway</friendlyName>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<serviceList><service>
<serviceType>{SERVICE}</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL>
<eventSubURL>/evt/IPConn</eventSubURL>
<SCPDURL>/WANIPCn.xml</SCPDURL>
</service></serviceList>
</device></deviceList>
</device></deviceList>
</device>
</root>"#;

/// The service description: the actions a client calls, with their input arguments.
const SCPD: &str = r#"<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<actionList>
<action><name>AddPortMapping</name><argumentList>
<argument><name>NewRemoteHost</name><direction>in</direction></argument>
<argument><name>NewExternalPort</name><direction>in</direction></argument>
<argument><name>NewProtocol</name><direction>in</direction></argument>
<argument><name>NewInternalPort</name><direction>in</direction></argument>
<argument><name>NewInternalClient</name><direction>in</direction></argument>
<argument><name>NewEnabled</name><direction>in</direction></argument>
<argument><name>NewPortMappingDescription</name><direction>in</direction></argument>
<argument><name>NewLeaseDuration</name><direction>in</direction></argument>
</argumentList></action>
<action><name>DeletePortMapping</name><argumentList>
<argument><name>NewRemoteHost</name><direction>in</direction></argument>
<argument><name>NewExternalPort</name><direction>in</direction></argument>
<argument><name>NewProtocol</name><direction>in</direction></argument>
</argumentList></action>
<action><name>GetExternalIPAddress</name><argumentList>
<argument><name>NewExternalIPAddress</name><direction>out</direction></argument>
</argumentList></action>
<action><name>GetGenericPortMappingEntry</name><argumentList>
<argument><name>NewPortMappingIndex</name><direction>in</direction></argument>
</argumentList></action>
</actionList>
</scpd>"#;
