import FIXTagValue

/// Where a client stands in know-your-customer review.
///
/// `verified` clients may trade until their review date; the other states never may.
public enum KYCStatus: String, Hashable, Sendable, CaseIterable {
    case verified
    case pending
    case expired
    case rejected
}

/// A client's KYC standing: the status and the date by which the client must be reviewed again.
public struct KYC: Hashable, Sendable {
    public var status: KYCStatus
    /// The last day the verification holds; trading after it is trading on expired KYC even
    /// when `status` still says `verified`. Nil when the review has no date.
    public var expiresOn: FIXDate?

    public init(status: KYCStatus, expiresOn: FIXDate? = nil) {
        self.status = status
        self.expiresOn = expiresOn
    }
}

/// The metadata of one document on file (the document itself lives elsewhere).
public struct ClientDocument: Hashable, Sendable {
    /// What the document is: `passport`, `proof-of-address`, `w8ben`, …
    public var kind: String
    /// The reference under which the document is filed.
    public var reference: String
    public var expiresOn: FIXDate?

    public init(kind: String, reference: String, expiresOn: FIXDate? = nil) {
        self.kind = kind
        self.reference = reference
        self.expiresOn = expiresOn
    }
}

/// The risk rating compliance gave the client.
public enum RiskRating: String, Hashable, Sendable, CaseIterable {
    case low
    case medium
    case high
}

/// Contact and descriptive details that the rules never read.
public struct ClientProfile: Hashable, Sendable {
    public var email: String?
    public var phone: String?
    /// ISO 3166 country code of residence, as entered.
    public var country: String?

    public init(email: String? = nil, phone: String? = nil, country: String? = nil) {
        self.email = email
        self.phone = phone
        self.country = country
    }
}

/// One client of the broker.
///
/// ```swift
/// let client = Client(id: "C-7", name: "Acme Pension Fund", segment: "institutional",
///                     kyc: KYC(status: .verified, expiresOn: FIXDate("20271231")))
/// ```
public struct Client: Hashable, Sendable {
    public var id: String
    public var name: String
    public var profile: ClientProfile
    /// A free label (`retail`, `professional`, `institutional`, …) that thresholds can key on.
    public var segment: String
    public var relationshipManager: String?
    public var kyc: KYC
    public var documents: [ClientDocument]
    public var riskRating: RiskRating?

    public init(
        id: String, name: String, profile: ClientProfile = ClientProfile(), segment: String,
        relationshipManager: String? = nil, kyc: KYC, documents: [ClientDocument] = [], riskRating: RiskRating? = nil
    ) {
        self.id = id
        self.name = name
        self.profile = profile
        self.segment = segment
        self.relationshipManager = relationshipManager
        self.kyc = kyc
        self.documents = documents
        self.riskRating = riskRating
    }

    /// Why trading on `date` breaks the KYC rule, or nil when it does not.
    public func kycBreach(on date: FIXDate) -> KYCBreach? {
        switch kyc.status {
        case .expired: return .expiredStatus
        case .pending, .rejected: return .notVerified(kyc.status)
        case .verified:
            if let expiry = kyc.expiresOn, expiry < date { return .expiredDate(expiry) }
            return nil
        }
    }

    /// Documents whose expiry date is before `date`.
    public func documentsExpired(on date: FIXDate) -> [ClientDocument] {
        documents.filter { doc in doc.expiresOn.map { $0 < date } ?? false }
    }
}

/// The reason a trade breaks the KYC rule.
public enum KYCBreach: Hashable, Sendable {
    /// The client's status is `expired`.
    case expiredStatus
    /// The status is `verified` but the review date has passed.
    case expiredDate(FIXDate)
    /// The status is `pending` or `rejected`.
    case notVerified(KYCStatus)
}

/// A client account: the identifier the book uses (`Fill.clientAccount`) and the FIX
/// Account(1) values that the venues send for it.
public struct ClientAccount: Hashable, Sendable {
    public var id: String
    public var clientID: String
    public var fixAccounts: [String]

    public init(id: String, clientID: String, fixAccounts: [String] = []) {
        self.id = id
        self.clientID = clientID
        self.fixAccounts = fixAccounts
    }
}

/// Every client and account, indexed for the rules.
///
/// An account is found by its own id or by any of its FIX Account values, so the directory
/// serves fills (which carry the book's client account) and break notices (which may carry
/// either).
public struct ClientDirectory: Sendable {
    /// Most clients a directory holds.
    public static let clientsMax = 1_000_000
    /// Most accounts one client may have.
    public static let accountsPerClientMax = 256

    public private(set) var clients: [String: Client] = [:]
    public private(set) var accounts: [String: ClientAccount] = [:]
    private var accountByName: [String: String] = [:]

    public init() {}

    public init(clients: [Client], accounts: [ClientAccount]) throws(CRMError) {
        for client in clients { try upsert(client) }
        for account in accounts { try upsert(account) }
    }

    /// Adds or replaces a client.
    public mutating func upsert(_ client: Client) throws(CRMError) {
        guard !client.id.isEmpty else { throw CRMError.invalid("client id is empty") }
        guard clients[client.id] != nil || clients.count < Self.clientsMax else {
            throw CRMError.limit("more than \(Self.clientsMax) clients")
        }
        clients[client.id] = client
    }

    /// Adds or replaces an account; its client must exist and no other account may claim the
    /// same id or FIX Account value.
    public mutating func upsert(_ account: ClientAccount) throws(CRMError) {
        guard clients[account.clientID] != nil else {
            throw CRMError.unknownClient(account.clientID, context: "account \(account.id)")
        }
        for name in [account.id] + account.fixAccounts {
            if let owner = accountByName[name], owner != account.id {
                throw CRMError.conflict("account name \(name) already belongs to account \(owner)")
            }
        }
        if let old = accounts[account.id] {
            for name in [old.id] + old.fixAccounts { accountByName[name] = nil }
        }
        accounts[account.id] = account
        for name in [account.id] + account.fixAccounts { accountByName[name] = account.id }
    }

    /// The account named by its id or by one of its FIX Account values.
    public func account(named name: String) -> ClientAccount? {
        accountByName[name].flatMap { accounts[$0] }
    }

    /// The client owning the account named `name`.
    public func client(forAccount name: String) -> Client? {
        account(named: name).flatMap { clients[$0.clientID] }
    }

    /// The accounts of a client, sorted by id.
    public func accounts(ofClient clientID: String) -> [ClientAccount] {
        accounts.values.filter { $0.clientID == clientID }.sorted { $0.id < $1.id }
    }
}
