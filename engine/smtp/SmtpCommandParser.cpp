// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpCommandParser.h"

#include <cstring>

namespace greygate {

namespace {

using Verb = SmtpCommand::Verb;

struct VerbName
{
    const char *name;
    Verb verb;
};

constexpr VerbName kVerbs[] = {
    {"HELO", Verb::Helo}, {"EHLO", Verb::Ehlo}, {"MAIL", Verb::Mail}, {"RCPT", Verb::Rcpt},
    {"DATA", Verb::Data}, {"RSET", Verb::Rset}, {"NOOP", Verb::Noop}, {"QUIT", Verb::Quit},
    {"VRFY", Verb::Vrfy}, {"EXPN", Verb::Expn}, {"HELP", Verb::Help}, {"STARTTLS", Verb::StartTls},
    {"AUTH", Verb::Auth}, {"BDAT", Verb::Bdat},
};

bool equalsUpper(QByteArrayView word, const char *upper)
{
    const auto n = qsizetype(std::strlen(upper));
    if (word.size() != n)
        return false;
    for (qsizetype i = 0; i < n; ++i) {
        char c = word[i];
        if (c >= 'a' && c <= 'z')
            c = char(c - 'a' + 'A');
        if (c != upper[i])
            return false;
    }
    return true;
}

bool startsWithUpper(QByteArrayView text, const char *upper)
{
    const auto n = qsizetype(std::strlen(upper));
    return text.size() >= n && equalsUpper(text.first(n), upper);
}

SmtpReply syntax(QByteArrayView text)
{
    return SmtpReply::make(501, "5.5.4", text);
}

bool isControl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// "<local@domain>" or "<@route,@route:local@domain>" or "<>". Returns the bytes after the
// closing bracket through *rest; the quotes of a quoted local part may hold '>'.
bool parsePath(QByteArrayView in, SmtpCommand &cmd, QByteArrayView *rest)
{
    if (in.isEmpty() || in[0] != '<')
        return false;
    bool quoted = false;
    qsizetype end = -1;
    for (qsizetype i = 1; i < in.size(); ++i) {
        const char c = in[i];
        if (quoted && c == '\\' && i + 1 < in.size()) {
            ++i;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (c == '>' && !quoted) {
            end = i;
            break;
        }
    }
    if (end < 0)
        return false;
    QByteArrayView address = in.sliced(1, end - 1);
    if (address.startsWith('@')) { // a source route: ignored (RFC 5321 §4.1.1.3)
        const qsizetype colon = address.indexOf(':');
        if (colon < 0)
            return false;
        address = address.sliced(colon + 1);
    }
    *rest = in.sliced(end + 1);
    cmd.address = address.toByteArray();
    for (const char c : address) {
        if (static_cast<unsigned char>(c) >= 0x80)
            cmd.eightBitPath = true;
    }
    return true;
}

bool validKeyword(QByteArrayView key)
{
    if (key.isEmpty())
        return false;
    for (const char c : key) {
        const bool alnum =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-')
            return false;
    }
    return true;
}

void parseMailParameter(QByteArrayView param, SmtpCommand &cmd, bool *seenSize, bool *seenBody)
{
    const qsizetype eq = param.indexOf('=');
    const QByteArrayView key = eq < 0 ? param : param.first(eq);
    const QByteArrayView value = eq < 0 ? QByteArrayView() : param.sliced(eq + 1);
    if (!validKeyword(key)) {
        cmd.error = syntax("Bad MAIL parameter syntax");
    } else if (equalsUpper(key, "SIZE")) {
        bool ok = !*seenSize && !value.isEmpty() && value.size() <= 18;
        for (const char c : value)
            ok = ok && c >= '0' && c <= '9';
        if (!ok)
            cmd.error = syntax("Bad SIZE parameter: SIZE=<decimal number of bytes>");
        else
            cmd.size = value.toLongLong();
        *seenSize = true;
    } else if (equalsUpper(key, "BODY")) {
        if (*seenBody)
            cmd.error = syntax("BODY given twice");
        else if (equalsUpper(value, "7BIT"))
            cmd.body = SmtpCommand::Body::SevenBit;
        else if (equalsUpper(value, "8BITMIME"))
            cmd.body = SmtpCommand::Body::EightBitMime;
        else
            cmd.error =
                SmtpReply::make(504, "5.5.4", "Unsupported BODY type: use 7BIT or 8BITMIME");
        *seenBody = true;
    } else if (equalsUpper(key, "SMTPUTF8") && eq < 0) {
        cmd.smtpUtf8 = true;
    } else if (equalsUpper(key, "AUTH") && eq >= 0) {
        // RFC 4954 §5: accepted and not relayed; the proxy does not offer AUTH.
    } else {
        cmd.error = SmtpReply::make(555, "5.5.4", "Unsupported MAIL parameter");
    }
}

void parseMailOrRcpt(QByteArrayView arg, SmtpCommand &cmd)
{
    const bool mail = cmd.verb == Verb::Mail;
    const char *prefix = mail ? "FROM:" : "TO:";
    const QByteArrayView usage = mail ? QByteArrayView("Syntax: MAIL FROM:<address> [parameters]")
                                      : QByteArrayView("Syntax: RCPT TO:<address>");
    if (!startsWithUpper(arg, prefix)) {
        cmd.error = syntax(usage);
        return;
    }
    arg = arg.sliced(qsizetype(std::strlen(prefix)));
    while (arg.startsWith(' ')) // "MAIL FROM: <a>" is common enough to accept
        arg = arg.sliced(1);
    QByteArrayView rest;
    if (!parsePath(arg, cmd, &rest)) {
        cmd.error = syntax(usage);
        return;
    }
    if (arg.size() - rest.size() > SmtpCommandParser::kMaxPath) {
        cmd.error = SmtpReply::make(501, "5.1.3", "Address too long");
        return;
    }
    for (const char c : cmd.address) {
        if (isControl(c)) {
            cmd.error = SmtpReply::make(501, mail ? "5.1.7" : "5.1.3", "Bad address syntax");
            return;
        }
    }
    if (!mail && cmd.address.isEmpty()) {
        cmd.error = SmtpReply::make(501, "5.1.3", "Empty recipient address");
        return;
    }
    if (!rest.isEmpty() && !rest.startsWith(' ')) {
        cmd.error = syntax(usage);
        return;
    }
    bool seenSize = false;
    bool seenBody = false;
    for (qsizetype i = 0; i < rest.size() && cmd.ok();) {
        if (rest[i] == ' ') {
            ++i;
            continue;
        }
        qsizetype end = rest.indexOf(' ', i);
        if (end < 0)
            end = rest.size();
        const QByteArrayView param = rest.sliced(i, end - i);
        if (mail)
            parseMailParameter(param, cmd, &seenSize, &seenBody);
        else
            cmd.error = SmtpReply::make(555, "5.5.4", "Unsupported RCPT parameter");
        i = end;
    }
}

Verb verbOf(QByteArrayView word)
{
    // Every verb but STARTTLS has four letters: those are matched as one upper-cased word
    // (the name table walked with strlen() and a compare per entry cost ~300 instructions
    // a command).
    if (word.size() != 4)
        return equalsUpper(word, "STARTTLS") ? Verb::StartTls : Verb::Unknown;
    quint32 upper = 0;
    for (const char c : word)
        upper = upper << 8 | quint8(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    for (const VerbName &v : kVerbs) {
        const auto *n = reinterpret_cast<const quint8 *>(v.name);
        if (n[4] == 0 && upper == (quint32(n[0]) << 24 | quint32(n[1]) << 16 | n[2] << 8 | n[3]))
            return v.verb;
    }
    return Verb::Unknown;
}

} // namespace

SmtpCommandParser::LineStatus SmtpCommandParser::takeLine(QByteArrayView input, qsizetype *consumed,
                                                          QByteArray *line)
{
    QByteArrayView view;
    const LineStatus status = takeLine(input, consumed, &view);
    if (status == LineStatus::Line)
        *line = view.toByteArray();
    return status;
}

SmtpCommandParser::LineStatus SmtpCommandParser::takeLine(QByteArrayView input, qsizetype *consumed,
                                                          QByteArrayView *line)
{
    const qsizetype lf = input.indexOf('\n');
    if (lf < 0) {
        // Without its end the line is already too long: skip what there is, and everything
        // up to its end later, rather than buffering it.
        if (m_skipping || input.size() >= kMaxLine) {
            m_skipping = true;
            *consumed = input.size();
        } else {
            *consumed = 0;
        }
        return LineStatus::NeedMore;
    }
    *consumed = lf + 1;
    const bool crlf = lf > 0 && input[lf - 1] == '\r';
    if (m_skipping) {
        m_skipping = false;
        return LineStatus::TooLong;
    }
    if (lf + 1 > kMaxLine || (!crlf && lf + 1 >= kMaxLine))
        return LineStatus::TooLong;
    if (!crlf && !m_normaliseBareLf)
        return LineStatus::BareLf;
    const QByteArrayView body = input.first(crlf ? lf - 1 : lf);
    if (body.contains('\r') || body.contains('\0'))
        return LineStatus::BadByte;
    *line = body;
    return LineStatus::Line;
}

SmtpCommand SmtpCommandParser::parse(QByteArrayView line)
{
    SmtpCommand cmd;
    const qsizetype space = line.indexOf(' ');
    const QByteArrayView word = space < 0 ? line : line.first(space);
    cmd.verb = verbOf(word);
    const QByteArrayView rest = space < 0 ? QByteArrayView() : line.sliced(space + 1);
    // MAIL and RCPT keep their parts (address, parameters), not the text they came in.
    if (space >= 0 && cmd.verb != Verb::Mail && cmd.verb != Verb::Rcpt)
        cmd.argument = rest.toByteArray();
    const QByteArrayView arg = rest.trimmed();
    switch (cmd.verb) {
    case Verb::Unknown:
        cmd.error = SmtpReply::make(500, "5.5.2", "Command not recognized");
        break;
    case Verb::Helo:
    case Verb::Ehlo:
        if (arg.isEmpty())
            cmd.error =
                syntax(cmd.verb == Verb::Helo ? "Syntax: HELO hostname" : "Syntax: EHLO hostname");
        break;
    case Verb::Mail:
    case Verb::Rcpt:
        parseMailOrRcpt(rest, cmd);
        break;
    case Verb::Data:
    case Verb::Rset:
    case Verb::Quit:
    case Verb::StartTls:
        if (!arg.isEmpty())
            cmd.error = syntax("No parameters allowed");
        break;
    case Verb::Vrfy:
    case Verb::Expn:
        if (arg.isEmpty())
            cmd.error = syntax("An argument is required");
        break;
    case Verb::Noop:
    case Verb::Help:
    case Verb::Auth:
    case Verb::Bdat:
        break;
    }
    return cmd;
}

} // namespace greygate
